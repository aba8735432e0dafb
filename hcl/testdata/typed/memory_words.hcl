sandbox {
  backend = "auto"
  memory  = "2 gigs"
}
