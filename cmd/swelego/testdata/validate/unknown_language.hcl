# An environment whose language no plugin serves: validate asks the
# plugins and reports it at the attribute, with the language it probably
# means.

environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = "https://example.invalid/textkit.git"
  language = "pyhton"
}
