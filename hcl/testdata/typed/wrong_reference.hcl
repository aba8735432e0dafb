source "swebench" "tasks" {
  path = "tasks.jsonl"
}

model "teacher" {
  provider = "oracle"
}

# tasks must name a source, model a model block.
rollout "teacher" {
  tasks = model.teacher
  model = source.swebench.tasks
}
