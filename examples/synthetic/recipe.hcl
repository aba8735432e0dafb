# Synthetic tasks: inject bugs into the bundled repositories with the built-in
# procedural injectors, drop the candidates that do not compile, keep those
# whose tests show them (at least one FAIL_TO_PASS and one PASS_TO_PASS),
# merge validated bugs of one file into harder tasks, and grade each task's
# own fix. lm.hcl does the same with a model rewriting functions.
#
#   swelego run examples/synthetic/recipe.hcl
#
# With swelego worker processes on other machines (docs/cluster.md), the
# candidates' compile checks and validations go to them:
#
#   swelego run examples/synthetic/recipe.hcl --queue nats://queue:4222

swelego {
  name    = "synthetic"
  workdir = "../../runs/synthetic"
}

variable "sandbox_backend" {
  type        = string
  default     = "auto"
  description = "auto (docker when an engine answers, else bwrap), docker or bwrap"
}

variable "max_candidates" {
  type        = number
  default     = 12
  description = "candidates tried per injector block"
}

variable "reruns" {
  type        = number
  default     = 2
  description = "runs of the tests on each tree; a test whose status differs between runs is dropped as flaky (1: no check)"
}

variable "workers" {
  type        = number
  default     = 2
  description = "candidates validated at the same time per repository"
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
  max_candidates = var.max_candidates
  workers        = var.workers
  reruns         = var.reruns

  injector "python" {
    rules = ["change_operator", "change_constant", "remove_conditional", "swap_operands"]
    seed  = 1
  }

  # Two or three validated bugs of the same file make one harder task, when
  # together they still fail every test each fails alone.
  combine {
    per       = "file"
    max_bugs  = 3
    max_tasks = 2
  }
}

source "synthetic" "semver" {
  repo           = "swelego-examples/semver"
  environment    = environment.semver
  max_candidates = var.max_candidates
  workers        = var.workers
  reruns         = var.reruns

  injector "golang" {
    rules = ["change_operator", "invert_condition", "off_by_one", "remove_early_return"]
    seed  = 1
  }

  combine {
    per       = "package"
    max_tasks = 2
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
