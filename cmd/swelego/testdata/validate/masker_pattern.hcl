# Masker settings the errormask plugin refuses: a pattern that is not a Go
# regular expression and a misspelt pattern to disable.

sft "student" {
  trajectories = "../sft/trajectories.jsonl"
  tokenizer    = "../../../../examples/quickstart/student"
  template     = "qwen3"

  model {
    config = "../../../../examples/quickstart/student/config.json"
  }

  masker "errormask" {
    extra_patterns = {
      oom    = "Killed|MemoryError"
      broken = "(unclosed"
    }
    disable_patterns = ["tracebak"]
  }
}
