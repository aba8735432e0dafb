variable "name" {
  default = lowr("CALC")
}

locals {
  prompt = uper("fix the bug")
  tasks  = jsnencode(["a"])
  limit  = nosuchfunction(3)
}

source "swebench" "tasks" {
  path = formt("%s.jsonl", var.name)
}
