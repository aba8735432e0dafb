// Package report reads a finished (or failed) run directory and tells what
// it did: a one-line summary per stage for the end of `swelego run`, a
// self-contained HTML report (tables, plots, a trajectory viewer) for
// `swelego report`, and terminal tables for `swelego show`.
//
// It only reads: it never takes the run's lock and never writes into the
// run directory except where a caller asks it to write the HTML file. It
// knows the pipeline's output files (core/pipeline) by the stage's block
// type, read from its address; the engine itself stays ignorant of stages.
package report
