# Real tasks mined from GitHub: merged pull requests that resolve exactly
# one issue, with SWE-rebench's filters, validated in sandboxes of the
# repository's environment. Needs a token in $GITHUB_TOKEN (it is never
# logged or stored) and network access to the API.
#
#   GITHUB_TOKEN=... swelego run examples/github/recipe.hcl -var repo=owner/name -var language=python
#
# Only pull requests merged after merged_after are mined: set it to a
# model's training cutoff for a contamination-free evaluation set.

swelego {
  name    = "github"
  workdir = "../../runs/github"
}

variable "repo" {
  type        = string
  description = "the repository to mine (owner/name)"
}

variable "language" {
  type    = string
  default = "python"
}

variable "merged_after" {
  type    = string
  default = "2025-01-01"
}

source "github" "prs" {
  repos           = [var.repo]
  merged_after    = var.merged_after
  token_env       = "GITHUB_TOKEN"
  min_issue_chars = 40
  min_files       = 1
  max_files       = 15
}

# The repository's tests run here; its history is cloned from GitHub.
environment "repo" {
  repo     = var.repo
  git      = "https://github.com/${var.repo}.git"
  language = var.language
}

eval "gold" {
  tasks       = source.github.prs
  predictions = "gold"
}
