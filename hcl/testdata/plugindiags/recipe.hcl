# Plugin configurations whose diagnostics are mapped back to the source.

variable "rules" {
  type    = list(string)
  default = ["x", "y"]
}

source "github" "prs" {
  repo = "a/b"
  filter {
    labels = ["bug", "fix"]
  }
  query {
    q = "first"
  }
  query {
    q = "second"
  }
  extra "one" {
    value = 1
  }
}

source "synthetic" "bugs" {
  repo = "a/b"
  injector "ast" {
    rules = ["flip", "swap"]
  }
  injector "defaults" {
    rules = var.rules
  }
}

toolset "swe" {
  plugin = "swetools"
  config = {
    timeout = 10
    tools   = ["bash", ("editor")]
  }
}

toolset "tuned" {
  plugin = "defaults"
  config = {
    nested = [{ name = "a" }, { name = "b", level = 7 }]
  }
}

sft "student" {
  trajectories = "../typed/trajectories.jsonl"
  tokenizer    = "../models/qwen3-8b"

  model {
    config = "../models/qwen3-8b/config.json"
  }

  masker "defaults" {
    level = 2
  }

  curriculum "defaults" {}
}
