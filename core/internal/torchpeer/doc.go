// Package torchpeer runs the PyTorch reference scripts that stand next to
// swelego's CPU benchmarks (core/model, core/trainer, core/infer): it finds
// the interpreter a script's #! line names that imports torch, runs a script once per process and
// arguments, and reads the JSON figures it prints.
//
// Only benchmarks and tests import it; it is not a way to run PyTorch in
// swelego itself.
package torchpeer
