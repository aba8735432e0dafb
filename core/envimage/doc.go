// Package envimage builds the environment images sandboxes start from, each
// in two forms: a root file system folder (for the bwrap backend) and the
// same tree imported into the Docker Engine (for the docker backend). Base
// images are made from Debian with debootstrap, environment images from a
// base, a repository and its setup commands; both are cached by a hash of
// their inputs, so building one twice is a no-op. No registry is needed
// for them.
//
// Published task images (SWE-bench's sweb.eval.* images, a SWE-smith or
// SWE-rebench record's image_name) are environments too: Published pulls
// one through the Engine (credentials from the Docker config) or loads it
// from a `docker save` archive, exports its file system once per image
// id, and moves the repository it ships at /testbed out of the way, so
// that only a sanitised copy of it ever reaches a sandbox.
//
// It does not run tasks in the images (sandbox does) or decide which
// repositories need which environment (the task sources and recipes do).
package envimage
