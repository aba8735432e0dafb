sft "student" {
  trajectories = "trajectories.jsonl"
  tokenizer    = "qwen-tokenizer"

  model {
    config = "student/missing.json"
  }
}
