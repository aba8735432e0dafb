# Real tasks from a repository's own history, for mirrors without API
# access: the bug-fix commits of the bundled repositories become tasks,
# validated in sandboxes (FAIL_TO_PASS found by running the tests before
# and after each fix), then graded with their own fixes and with empty
# patches.
#
#   swelego run examples/github/history.hcl
#   swelego run examples/github/history.hcl -var sandbox_backend=bwrap

swelego {
  name    = "github-history"
  workdir = "../../runs/github-history"
}

variable "sandbox_backend" {
  type        = string
  default     = "auto"
  description = "auto (docker when an engine answers, else bwrap), docker or bwrap"
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

# The example histories name no issues, so every commit is read
# (require_issue = false) except the ones that add a feature.
source "git_history" "textkit" {
  repo            = "swelego-examples/textkit"
  require_issue   = false
  exclude_message = "^Add "
  workers         = 2
  reruns          = 1
}

source "git_history" "semver" {
  repo            = "swelego-examples/semver"
  require_issue   = false
  exclude_message = "^Add "
  workers         = 2
  reruns          = 1
}

eval "textkit_gold" {
  tasks       = source.git_history.textkit
  predictions = "gold"
  workers     = 2
}

eval "textkit_empty" {
  tasks       = source.git_history.textkit
  predictions = "empty"
  workers     = 2
}

eval "semver_gold" {
  tasks       = source.git_history.semver
  predictions = "gold"
  workers     = 2
}

eval "semver_empty" {
  tasks       = source.git_history.semver
  predictions = "empty"
  workers     = 2
}
