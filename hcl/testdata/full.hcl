# A full recipe: every block type, variables, locals, functions and
# references. Stages are declared out of order on purpose.

swelego {
  name    = "demo-${var.size}"
  workdir = "runs/${local.run}"
}

variable "size" {
  type        = string
  default     = "8b"
  description = "Model size."
}

variable "workers" {
  type    = number
  default = 1
}

variable "attempts" {
  type    = number
  default = 1
}

variable "tags" {
  type    = list(string)
  default = ["a"]
}

variable "lr" {
  type = number
}

variable "judge" {
  type = object({
    name        = string
    temperature = optional(number, 0)
  })
  default = { name = "judge" }
}

locals {
  run    = "${var.size}-${local.suffix}"
  prompt = trimspace(file("files/prompt.txt"))
}

locals {
  suffix   = join("-", concat(var.tags, ["x"]))
  data     = abspath("data/tasks.jsonl")
  home     = env("SWELEGO_TEST_HOME")
  fallback = env("SWELEGO_TEST_UNSET", "none")
  unset    = env("SWELEGO_TEST_UNSET")
  tasks    = source.swebench.verified
  calls    = [length("héllo"), max(1, 5), format("%03d", 7), replace("a-b-c", "/-/", "_")]
}

plugin "swebench" {
  source  = "./plugins/swelego-plugin-swebench"
  version = ">= 0.1.0"
}

environment "py" {
  base     = "bookworm"
  packages = ["python3", "python3-pytest"]
  setup    = ["pip install -e ."]
  test_cmd = "pytest -rA"
  language = "python"
}

sandbox {
  backend = "bwrap"
  memory  = "4g"
  cpus    = 2
  pids    = 512
  timeout = "30m"
}

eval "final" {
  tasks       = local.tasks
  predictions = tts.best
  backend     = "bwrap"
  workers     = var.workers
}

tts "best" {
  tasks      = source.swebench.verified
  candidates = rollout.teacher
  k          = 4
  workers    = 2
  output     = "predictions.jsonl"

  verifier "generative" {
    model     = model.judge
    threshold = 0.5
  }
}

sft "student" {
  trajectories  = rollout.teacher
  include       = ["resolved", "semi_resolved"]
  tokenizer     = "models/qwen3-8b"
  template      = "qwen3"
  epochs        = 4
  lr            = var.lr
  global_batch  = 64
  weight_decay  = 0.01
  max_grad_norm = 1.0
  warmup_ratio  = 0.1
  max_seq_len   = 131072
  backend       = "cpu"

  model {
    checkpoint = "models/qwen3-8b"
  }
}

rollout "teacher" {
  tasks     = local.tasks
  model     = model.teacher
  toolset   = toolset.swe
  max_turns = 100
  workers   = var.workers
  attempts  = var.attempts
}

source "swebench" "verified" {
  path  = local.data
  split = "test"
  limit = 10
}

model "teacher" {
  provider    = "oracle"
  name        = "oracle-teacher"
  temperature = 0
}

model "judge" {
  provider    = "openai"
  base_url    = "http://localhost:8000/v1"
  name        = var.judge.name
  api_key_env = "OPENAI_API_KEY"
  temperature = var.judge.temperature
  max_tokens  = 16
  timeout     = "2m"
}

toolset "swe" {
  plugin = "swetools"
  config = {
    timeout = 120
    tools   = ["execute_bash", "str_replace_editor", "think", "finish"]
  }
}
