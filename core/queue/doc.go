// Package queue distributes work items over NATS JetStream: a coordinator
// publishes a job's items to a work-queue stream and reads their outcomes
// back from a results stream; workers on other machines pull the items,
// run them and publish what they got.
//
// Delivery is at least once: a worker acknowledges an item only after its
// outcome is stored, sends in-progress heartbeats while it runs, and an
// item whose worker dies is delivered again after the ack wait. Outcomes
// are keyed by item, so the coordinator keeps the first of each and drops
// repeats. An item that failed on MaxAttempts deliveries is parked on the
// job's poison subject with the error of each attempt instead of being
// retried forever. The package knows nothing of what an item is: its
// payload is JSON the caller defines (core/pipeline's eval and validate
// items).
//
// Subjects: swelego.work.JOB.KEYHASH (stream SWELEGO_WORK, work-queue
// retention, one durable consumer shared by every worker),
// swelego.results.JOB and swelego.poison.JOB (stream SWELEGO_RESULTS), and
// the key-value bucket SWELEGO_ATTEMPTS that keeps each attempt's error.
//
// Files the items need that workers cannot reach on their own (git
// bundles of repositories) travel through the object store bucket
// SWELEGO_REPOS, named by the SHA-256 of their content: the coordinator
// uploads each once (Upload; a file stored already is not sent again) and
// items name the objects; a worker fetches a missing one once into its
// cache (Fetch), checks its digest, and renames it into place.
package queue
