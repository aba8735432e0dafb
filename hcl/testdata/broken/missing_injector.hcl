source "synthetic" "bugs" {
  repo = "a/b"

  combine {
    max_bugs = 3
  }
}
