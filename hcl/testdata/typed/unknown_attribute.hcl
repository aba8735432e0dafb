source "swebench" "tasks" {
  path = "tasks.jsonl"
}

eval "gold" {
  tasks       = source.swebench.tasks
  predictions = "gold"
  wokers      = 2
}
