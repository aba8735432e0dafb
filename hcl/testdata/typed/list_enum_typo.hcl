sft "student" {
  trajectories = "trajectories.jsonl"
  include      = ["resolved", "semi-resolved"]
  tokenizer    = "cl100k_base"
  overflow     = "truncated"

  model {
    config = "student/config.json"
  }
}
