variable "name" {
  default = "calc"
}

source "swebench" "tasks" {
  path = "${var.name.jsonl"
}
