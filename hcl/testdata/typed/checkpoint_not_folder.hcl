# A local model serves a Hugging Face model folder, not a file.
model "student" {
  provider   = "local"
  checkpoint = "student/config.json"
  max_batch  = 0
}
