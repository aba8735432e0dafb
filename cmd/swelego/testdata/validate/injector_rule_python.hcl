# A misspelt rule of the Python injector: the plugin reports it at the
# element of the list, with the rule it probably means.

source "synthetic" "textkit" {
  repo = "swelego-examples/textkit"

  injector "python" {
    rules = ["change_operator", "swap_operand"]
    seed  = 1
  }
}
