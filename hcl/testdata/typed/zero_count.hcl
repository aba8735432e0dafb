source "swebench" "tasks" {
  path = "tasks.jsonl"
}

model "teacher" {
  provider = "oracle"
}

rollout "teacher" {
  tasks     = source.swebench.tasks
  model     = model.teacher
  attempts  = 0
  workers   = 0
  max_turns = 0
}
