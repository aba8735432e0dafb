# A third-party plugin (examples/plugins/masker-example, found on the
# plugin path) checks its own settings through the same protocol.

sft "student" {
  trajectories = "../sft/trajectories.jsonl"
  tokenizer    = "../../../../examples/quickstart/student"
  template     = "qwen3"

  model {
    config = "../../../../examples/quickstart/student/config.json"
  }

  masker "firstturns" {
    turns       = 1.5
    rest_weight = 2
  }
}
