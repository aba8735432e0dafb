# Synthetic tasks in a language swelego does not ship: JavaScript, taught by
# examples/plugins/javascript, a plugin in its own Go module that imports
# only swelego's sdk. `make example-plugin` builds it into ./.swelego/plugins
# beside this recipe, where discovery finds it; swelego itself is unchanged.
#
# The plugin's injector mutates urlkit (examples/repos/urlkit.bundle), its
# syntax check drops candidates that do not parse, validation keeps those
# with at least one FAIL_TO_PASS and one PASS_TO_PASS test under Node's test
# runner, and eval grades each task's own fix.
#
#   make example-plugin
#   swelego run examples/javascript/recipe.hcl

swelego {
  name    = "javascript"
  workdir = "../../runs/javascript"
}

variable "sandbox_backend" {
  type        = string
  default     = "auto"
  description = "auto (docker when an engine answers, else bwrap), docker or bwrap"
}

variable "max_candidates" {
  type        = number
  default     = 12
  description = "candidates validated (the injector makes more; the rest are counted as over the limit)"
}

variable "workers" {
  type        = number
  default     = 2
  description = "candidates validated at the same time"
}

variable "reruns" {
  type        = number
  default     = 2
  description = "runs of the tests on each tree; a test whose status differs between runs is dropped as flaky (1: no check)"
}

plugin "javascript" {
  version = ">= 0.1"
}

environment "urlkit" {
  repo     = "swelego-examples/urlkit"
  git      = "../repos/urlkit.bundle"
  language = "javascript"
}

sandbox {
  backend = var.sandbox_backend
  memory  = "2g"
}

source "synthetic" "urlkit" {
  repo           = "swelego-examples/urlkit"
  environment    = environment.urlkit
  max_candidates = var.max_candidates
  workers        = var.workers
  reruns         = var.reruns

  injector "javascript" {
    rules = ["change_operator", "change_constant", "remove_conditional", "swap_operands", "flip_boolean"]
    seed  = 1
  }
}

eval "urlkit" {
  tasks       = source.synthetic.urlkit
  predictions = "gold"
  workers     = 2
}
