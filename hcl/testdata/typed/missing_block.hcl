source "swebench" "tasks" {
  path = "tasks.jsonl"
}

model "teacher" {
  provider = "oracle"
}

rollout "teacher" {
  tasks = source.swebench.tasks
  model = model.teachr
}
