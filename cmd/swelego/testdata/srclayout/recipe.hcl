# A synthetic source over a src-layout repository (src/ledger, tests that
# `import ledger`, a test class inheriting its tests from a mixin in another
# module). The package imports only when src/ is on the path, which the
# environment's test command arranges: validation must run that command.
# TestSyntheticSrcLayout sets repo_git to a repository made from repo/ and
# runs it with and without the PYTHONPATH (one worker then: validation
# stops after five candidates whose tests do not run, one of six left).

swelego {
  name = "srclayout"
}

variable "repo_git" {
  type        = string
  description = "the ledger repository (a git folder)"
}

variable "test_cmd" {
  type    = string
  default = "PYTHONPATH=src python3 -m pytest -p no:cacheprovider"
}

variable "workers" {
  type    = number
  default = 2
}

variable "sandbox_backend" {
  type    = string
  default = "bwrap"
}

environment "ledger" {
  repo     = "swelego-tests/ledger"
  git      = var.repo_git
  language = "python"
  test_cmd = var.test_cmd
}

sandbox {
  backend = var.sandbox_backend
  memory  = "1g"
}

source "synthetic" "ledger" {
  repo        = "swelego-tests/ledger"
  environment = environment.ledger
  reruns      = 1
  workers     = var.workers

  # Removing `total = start` leaves `nonlocal total` without a binding:
  # the compile check must refuse it.
  injector "python" {
    rules = ["remove_assignment"]
    files = ["src/ledger/counter.py"]
  }

  injector "python" {
    rules = ["change_operator"]
    files = ["src/ledger/stats.py", "src/ledger/account.py"]
    seed  = 1
  }
}

eval "ledger" {
  tasks       = source.synthetic.ledger
  predictions = "gold"
}
