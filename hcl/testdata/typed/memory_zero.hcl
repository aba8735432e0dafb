sandbox {
  memory = "0"
  cpus   = 0
}
