source "swebench" "tasks" {
  path = "tasks.jsonl"
}

eval "gold" {
  tasks       = source.swebench.tasks
  predictions = "gold"
  workers     = 2.5
}
