source "swebench" "verified" {
  path = "tasks.jsonl"
}

tts "best" {
  tasks      = source.swebench.verified
  candidates = "candidates.jsonl"

  verifier "generative" {
    model = "judge"
  }

  verifier "generative" {
    model = "other"
  }
}
