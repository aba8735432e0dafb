// Package engine is swelego's run store and stage scheduler. A Run is a
// locked directory that holds every artifact of one pipeline run; stages
// write their records through a Writer, an append-only JSON Lines file with
// a checksum sidecar that survives kill -9 and resumes by item key; Execute
// runs a graph of stages in dependency order, persists each stage's state
// and skips what is already up to date.
//
// The engine knows nothing about recipes, plugins or what a stage does: the
// CLI adapts recipe blocks to the Stage interface.
//
// # Artifact files
//
// DATA.jsonl stays plain JSON Lines so other tools read it unchanged. Its
// sidecar DATA.jsonl.sum holds one line per committed record,
//
//	OFFSET LENGTH CRC32C
//
// with OFFSET and LENGTH in decimal bytes and CRC32C (Castagnoli) as eight
// lower-case hex digits, both covering the record line including its final
// newline. Records appear in file order; the bytes between two records may
// only be blank lines (files adopted from other tools). A record is committed
// once its data and its sum line are both on disk; anything after the last
// committed record is discarded when the file is opened for writing again.
//
// # Up to date, stale, incremental
//
// A finished stage is skipped while its fingerprint and the generations of
// its dependencies' outputs are those it was built from. A stage that
// implements Incremental (one keyed record per item, outputs that only
// grow) runs again even when finished, to pick up new items in its inputs;
// a run that commits or drops no record keeps its generation, so its
// dependents stay up to date. Each stage also has a lineage, kept while its
// outputs only grow and new after --rerun discards them: an incremental
// stage catches up with a dependency of the same lineage, while any stage
// built from an earlier lineage, and a stage that is not incremental built
// from earlier outputs, is stale and must be rerun.
//
// # Run directory
//
//	run.json                  run id, creation time, swelego version
//	run.lock                  flock held while a process uses the run
//	state/ADDRESS.json        one StageState per stage
//	KIND/TYPE/NAME/OUT.jsonl  outputs of stage KIND.TYPE.NAME
package engine
