# The curriculum's tiers are left to their default (3, from the plugin's
# schema), so two epochs values are one short: the plugin sees the default
# the host applied.

sft "student" {
  trajectories = "../sft/trajectories.jsonl"
  tokenizer    = "../../../../examples/quickstart/student"
  template     = "qwen3"

  model {
    config = "../../../../examples/quickstart/student/config.json"
  }

  curriculum "curriculum" {
    by     = "tokenz"
    epochs = [1, 2]
  }
}
