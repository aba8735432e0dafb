source "swebench" "tasks" {
  path = "tasks.jsonl"
}

# A predictions file that is not there.
eval "theirs" {
  tasks       = source.swebench.tasks
  predictions = "predictions/theirs.jsonl"
}

# "gold" and "empty" are no files.
eval "gold" {
  tasks       = source.swebench.tasks
  predictions = "gold"
}
