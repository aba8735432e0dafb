environment "textkit" {
  repo = "swelego-examples/textkit"
}

source "synthetic" "textkit" {
  repo           = "swelego-examples/textkit"
  environment    = environment.textkit
  max_candidates = -3
  reruns         = -1

  injector "ast" {}
}
