// Package taskenv puts a task in its execution environment: it picks the
// environment that serves the task's repository, builds (once, cached) the
// environment image from the language's base image plus the repository's
// setup, checks the repository out at the task's base commit with its
// history sanitised, and opens a sandbox on the configured backend.
//
// A task whose environment is a published image (Environment.ImageRef)
// builds nothing: the image is pulled or loaded (envimage.Published) and
// the repository it ships at /testbed is sanitised at the task's base
// commit (gitsafe) before a sandbox gets a copy of it.
//
// It is the sandbox opener the harness, rollouts and validation use; it
// does not run tests or grade (harness does).
package taskenv
