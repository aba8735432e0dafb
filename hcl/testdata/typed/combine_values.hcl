source "synthetic" "textkit" {
  repo = "swelego-examples/textkit"

  injector "ast" {}

  combine {
    per      = "fil"
    min_bugs = 3
    max_bugs = 2
  }
}
