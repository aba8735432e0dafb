source "swebench" "verified" {
  path = "tasks.jsonl"
}

rollout "teacher" {
  tasks = source.swebench.verified
  model = model.remote
}

# A local model without a checkpoint.
model "student" {
  provider = "local"
}

# A checkpoint on an endpoint.
model "remote" {
  provider   = "openai"
  checkpoint = "models/student"
}

# A checkpoint that is neither a folder nor an sft stage.
model "teacher" {
  provider   = "local"
  checkpoint = rollout.teacher
}
