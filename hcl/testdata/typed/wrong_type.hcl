environment "textkit" {
  repo     = "swelego-examples/textkit"
  packages = "python3-pytest"
}

source "swebench" "tasks" {
  path = "tasks.jsonl"
}

model "teacher" {
  provider = "oracle"
}

rollout "teacher" {
  tasks     = source.swebench.tasks
  model     = model.teacher
  max_turns = "many"
}
