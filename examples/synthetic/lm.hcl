# Synthetic tasks written with a model: lm_modify asks it to slip a subtle bug
# into a function, lm_rewrite to write a function again from its signature and
# docstring (the rewrites that differ from the original and fail a test are
# the bugs); a procedural injector runs beside them, and the model writes each
# task's problem statement from the failing tests' output.
#
#   swelego run examples/synthetic/lm.hcl -var model_url=http://127.0.0.1:8000/v1 -var model_name=Qwen/Qwen3-Coder-30B-A3B-Instruct

swelego {
  name    = "synthetic-lm"
  workdir = "../../runs/synthetic-lm"
}

variable "sandbox_backend" {
  type        = string
  default     = "auto"
  description = "auto (docker when an engine answers, else bwrap), docker or bwrap"
}

variable "model_url" {
  type        = string
  description = "API root of an OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp, Ollama, OpenAI)"
}

variable "model_name" {
  type    = string
  default = "default"
}

variable "model_calls" {
  type        = number
  default     = 6
  description = "model calls per LM injector"
}

model "writer" {
  provider    = "openai"
  base_url    = var.model_url
  name        = var.model_name
  temperature = 0.8
  max_retries = 2
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

source "synthetic" "textkit" {
  repo           = "swelego-examples/textkit"
  environment    = environment.textkit
  model          = model.writer
  max_candidates = 6
  workers        = 2

  injector "python" {
    rules       = ["lm_modify", "lm_rewrite"]
    model_calls = var.model_calls
    seed        = 1
  }

  injector "python" {
    rules = ["change_operator"]
    seed  = 2
  }
}

source "synthetic" "semver" {
  repo           = "swelego-examples/semver"
  environment    = environment.semver
  model          = model.writer
  max_candidates = 4
  workers        = 2

  injector "golang" {
    rules       = ["lm_modify"]
    model_calls = var.model_calls
    seed        = 1
  }
}

eval "textkit" {
  tasks       = source.synthetic.textkit
  predictions = "gold"
  workers     = 2
}

eval "semver" {
  tasks       = source.synthetic.semver
  predictions = "gold"
  workers     = 2
}
