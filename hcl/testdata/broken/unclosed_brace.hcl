model "teacher" {
  provider = "oracle"

source "swebench" "tasks" {
  path = "tasks.jsonl"
}
