source "swebench" "tasks" {
  path = "tasks.jsonl"
}

tts "rerank" {
  tasks      = source.swebench.tasks
  candidates = "candidates.jsonl"

  verifier "generative" {}
}
