source "swebench" "verified" {
  path = "tasks.jsonl"
}

model "policy" {
  provider = "oracle"
}

# Both a model to roll out and candidates to rerank.
tts "both" {
  tasks      = source.swebench.verified
  model      = model.policy
  candidates = "candidates.jsonl"

  verifier "generative" {}
}

# Neither.
tts "neither" {
  tasks = source.swebench.verified

  verifier "generative" {}
}

# A rollout setting without a model, and a verifier model that is no
# model block.
tts "rerank" {
  tasks      = source.swebench.verified
  candidates = "candidates.jsonl"
  max_turns  = 10

  verifier "generative" {
    model = "judge"
  }
}

tts "none" {
  tasks = source.swebench.verified
  model = model.policy
  k     = 0

  verifier "generative" {}
}
