sandbox {
  backend = "podman"
  timeout = "forever"
}

model "teacher" {
  provider = "anthropic"
}

rollout "teacher" {
  tasks = model.teacher
  model = model.teacher
}

source "swebench" "tasks" {
  path = "tasks.jsonl"
}

eval "gold" {
  tasks                = source.swebench.tasks
  predictions          = "gold"
  skipped_pass_to_pass = "ignored"
}
