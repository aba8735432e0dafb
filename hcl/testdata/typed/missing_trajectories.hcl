sft "student" {
  trajectories = "teacher/trajectories.jsonl"
  tokenizer    = "cl100k_base"

  model {
    config = "student/config.json"
  }
}
