# A plugin attribute of the wrong type: rules is a list(string) in the
# injector's schema, and the host refuses a number before the plugin is
# asked anything.

source "synthetic" "textkit" {
  repo = "swelego-examples/textkit"

  injector "python" {
    rules = 42
  }
}
