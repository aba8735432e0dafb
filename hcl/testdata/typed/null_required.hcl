source "swebench" "tasks" {
  path = "tasks.jsonl"
}

model "teacher" {
  provider = "oracle"
}

rollout "teacher" {
  tasks = null
  model = model.teacher
}
