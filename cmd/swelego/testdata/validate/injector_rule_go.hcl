# A misspelt rule of the Go injector, and a negative limit.

source "synthetic" "semver" {
  repo = "swelego-examples/semver"

  injector "golang" {
    rules          = ["invert_condition", "of_by_one"]
    min_statements = -2
  }
}
