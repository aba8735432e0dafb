# The closing quote of the second command is missing.
environment "calc" {
  language = "python"
  setup    = ["pip install -e .", "eval "gold"]
}

source "swebench" "tasks" {
  path = "tasks.jsonl
}
