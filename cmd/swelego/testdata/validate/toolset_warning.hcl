# Only a warning: the soft timeout is above max_timeout, which is left to
# its default (600 seconds, from the plugin's schema). validate succeeds.

toolset "swe" {
  plugin = "swetools"
  config = {
    timeout = 900
  }
}
