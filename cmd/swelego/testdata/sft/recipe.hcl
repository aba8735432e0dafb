# An sft stage on its own: real trajectories of the bundled tasks (the
# quickstart's oracle rollout, captured in trajectories.jsonl) → masking →
# curriculum → a tiny Qwen3 on the CPU.

swelego {
  name = "sft-test"
}

variable "epochs" {
  type    = number
  default = 6
}

variable "save_every" {
  type    = number
  default = 0
}

sft "student" {
  trajectories = "trajectories.jsonl"
  tokenizer    = "../../../../examples/quickstart/student"
  template     = "qwen3"

  model {
    config = "../../../../examples/quickstart/student/config.json"
  }

  epochs       = var.epochs
  global_batch = 1
  lr           = 3e-3
  max_seq_len  = 16384
  save_every   = var.save_every
  seed         = 1

  masker "errormask" {
    strategy = "error_turns"
  }

  curriculum "curriculum" {
    tiers = 3
  }
}
