# Test-time scaling over the bundled tasks: k rollouts per task of a
# policy, each in its own sandbox; a verifier scores every rollout and the
# best is submitted. The harness grades every rollout too, for the report
# only (the verifier never sees a grade): tts/k4/report.json gives pass@1,
# TTS@K (the verifier's pick) and pass@K (the best pick) for K = 1, 2, 4,
# with the verifier's AUC, and report.svg / report.png plot them.
#
#   swelego run examples/tts/recipe.hcl                                # verifier-tests
#   swelego run examples/tts/recipe.hcl -var verifier=verifier-generative \
#     -var judge_url=http://127.0.0.1:8080/v1                          # a judge model
#   swelego tts report runs/tts
#
# Swapping the verifier keeps the rollouts and scores them again.

swelego {
  name    = "tts"
  workdir = "../../runs/tts"
}

variable "tasks_file" {
  type        = string
  default     = "../tasks/bundled.jsonl"
  description = "SWE-bench instance file (JSON or JSON Lines)"
}

variable "sandbox_backend" {
  type        = string
  default     = "auto"
  description = "auto (docker when an engine answers, else bwrap), docker or bwrap"
}

variable "verifier" {
  type        = string
  default     = "verifier-tests"
  description = "the verifier plugin: verifier-tests, verifier-generative or verifier-hybrid (built in, or a swelego-plugin-NAME binary on the plugin path)"
}

variable "judge_url" {
  type        = string
  default     = "http://127.0.0.1:8080/v1"
  description = "OpenAI-compatible endpoint of the judge model the generative and hybrid verifiers ask (swelego serve's default address)"
}

variable "judge_name" {
  type        = string
  default     = "judge"
  description = "the judge model's name at the endpoint"
}

variable "k" {
  type        = number
  default     = 4
  description = "rollouts per task"
}

variable "workers" {
  type        = number
  default     = 2
  description = "rollouts (and verifications) at the same time"
}

source "swebench" "bundled" {
  path = var.tasks_file
}

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

sandbox {
  backend = var.sandbox_backend
  memory  = "2g"
}

# The policy. "oracle" is a TEST TEACHER, not a model: it replays each
# task's known fix, with mistakes at error_rate. Mistakes cost turns, and
# an episode that runs out of its max_turns stops before it has fixed the
# task: some rollouts fail, so the verifier has something to tell apart.
# Point provider = "openai" at an endpoint (swelego serve, vLLM, …) to
# scale a real model.
model "policy" {
  provider   = "oracle"
  error_rate = 0.5
  seed       = 3
}

# The judge the verifier is lent (used by the generative and hybrid
# verifiers, ignored by the tests verifier).
model "judge" {
  provider = "openai"
  base_url = var.judge_url
  name     = var.judge_name
}

toolset "swe" {
  plugin = "swetools"
}

# The verifier block names this plugin; its source is the variable, so the
# verifier is swapped from the command line.
plugin "judge" {
  source = var.verifier
}

tts "k4" {
  tasks     = source.swebench.bundled
  model     = model.policy
  toolset   = toolset.swe
  k         = var.k
  max_turns = 8 # the oracle at error_rate 0.5 needs 10 to 14 turns
  workers   = var.workers

  verifier "judge" {
    model = model.judge
  }
}
