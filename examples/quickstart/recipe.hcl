# The quickstart: load the bundled SWE-bench-format tasks, grade their own
# fixes, roll out a teacher agent over them and grade its patches.
#
#   swelego run examples/quickstart/recipe.hcl              # everything
#   swelego run examples/quickstart/recipe.hcl --stage tasks

swelego {
  name    = "quickstart"
  workdir = "../../runs/quickstart" # relative to this file
}

variable "tasks_file" {
  type        = string
  default     = "../tasks/bundled.jsonl"
  description = "SWE-bench instance file (JSON or JSON Lines)"
}

# A task source is a plugin: "swebench" is built into swelego and runs out of process.
source "swebench" "bundled" {
  path = var.tasks_file
}

# Where each repository's tests run: a Debian image per language, plus the
# repository's history from a git bundle (relative to this file).
environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = "../repos/textkit.bundle"
  language = "python"
}

environment "semver" {
  repo     = "swelego-examples/semver"
  git      = "../repos/semver.bundle"
  language = "go"
}

variable "sandbox_backend" {
  type        = string
  default     = "auto"
  description = "auto (Docker when an engine answers, bubblewrap otherwise), docker or bwrap"
}

sandbox {
  backend = var.sandbox_backend
  memory  = "2g"
}

# Grade each task's own fix in a fresh sandbox, as SWE-bench's harness does
# with --predictions_path gold: every task should be resolved.
eval "gold" {
  tasks       = source.swebench.bundled
  predictions = "gold"
  workers     = 2
}

# The teacher. "oracle" is a TEST TEACHER, not a model: it replays each task's
# known fix as a realistic trajectory (explore, reproduce, edit, test,
# finish), with mistakes at error_rate so loss masking has something to mask.
# Point provider = "openai" and base_url at a vLLM, SGLang, llama.cpp or
# Ollama server to roll out a real model instead.
model "teacher" {
  provider   = "oracle"
  error_rate = 0.3
  seed       = 1
}

# OpenHands CodeAct's four tools: execute_bash, str_replace_editor, think,
# finish. The plugin is built into swelego.
toolset "swe" {
  plugin = "swetools"
}

# One attempt per task, each in a fresh sanitised sandbox; the final patch is
# graded like a SWE-bench prediction. Trajectories land in
# rollout/teacher/trajectories.jsonl.
rollout "teacher" {
  tasks     = source.swebench.bundled
  model     = model.teacher
  toolset   = toolset.swe
  max_turns = 50
  workers   = 2
  attempts  = 1
}

# Grade the teacher's patches as SWE-bench predictions.
eval "teacher" {
  tasks       = source.swebench.bundled
  predictions = rollout.teacher
  workers     = 2
}

variable "student_epochs" {
  type        = number
  default     = 24
  description = "epochs of the student's SFT, shared by the curriculum's 3 stages (the paper trains 4 over 18k trajectories; 9 need more)"
}

# Refined SFT, as SWE-Lego trains: the teacher's resolved and semi-resolved
# trajectories, rendered with Qwen3's chat template (no thinking block);
# turns whose tool call failed stay in context without loss (error_turns
# masking); trajectories ordered easy → hard in 3 tiers by their number of
# turns. The student is a tiny Qwen3 (student/config.json) with a small
# Qwen-style tokenizer, trained on the CPU in a few minutes; the trained
# model lands in sft.student/model in Hugging Face's layout, the masked
# data in sft.student/sharegpt for LLaMA-Factory.
sft "student" {
  trajectories = rollout.teacher
  include      = ["resolved", "semi_resolved"]
  toolset      = toolset.swe
  tokenizer    = "student"
  template     = "qwen3"

  model {
    config = "student/config.json"
  }

  epochs       = var.student_epochs
  global_batch = 1
  micro_batch  = 1
  lr           = 3e-3
  warmup_ratio = 0.1
  max_seq_len  = 16384
  packing      = false
  save_every   = 20
  seed         = 1

  masker "errormask" {
    strategy = "error_turns"
  }

  curriculum "curriculum" {
    by    = "turns"
    tiers = 3
  }
}
