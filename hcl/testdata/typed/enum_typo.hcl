sandbox {
  backend = "dokcer"
}

model "teacher" {
  provider = "opneai"
}

model "judge" {
  provider = "openai"
  format   = "openhand"
}
