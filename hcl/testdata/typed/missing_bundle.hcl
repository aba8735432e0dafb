environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = "../repos/textkit.bundle"
  language = "python"
}

# A URL is not checked.
environment "remote" {
  repo = "swelego-examples/semver"
  git  = "https://example.com/semver.git"
}
