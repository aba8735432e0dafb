source "synthetic" "bugs" {
  repo = "a/b"

  injector "ast" {
    seed = 1
  }

  injector "ast" {
    rules = ["lm_modify"]
  }

  combine {
    per      = "module"
    max_bugs = 3
  }
}
