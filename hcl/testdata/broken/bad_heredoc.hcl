model "teacher" {
  provider = "oracle"
  system   = <<-EOT
    You are a careful engineer.
  EOF
}
