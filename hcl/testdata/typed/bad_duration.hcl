source "swebench" "tasks" {
  path = "tasks.jsonl"
}

model "teacher" {
  provider = "openai"
  timeout  = "-5s"
}

rollout "teacher" {
  tasks      = source.swebench.tasks
  model      = model.teacher
  time_limit = "10 minutes"
}
