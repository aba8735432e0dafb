// Package hcl is the swelego recipe language: the HCL file that drives a
// pipeline run. Load parses a recipe, checks its structure against the table
// of block types (blocks.go), resolves input variables, local values,
// functions and the references between blocks, decodes plugin-defined
// bodies against the schemas plugins serve, checks every value of a core
// block (whole numbers, sizes, durations, enums, paths that must exist) and
// decodes it once into typed settings (settings.go) that stages receive,
// and orders the stage blocks; WriteDiagnostics prints its errors with
// file:line:col and a source snippet. The same table writes the recipe
// reference (Reference, WriteMarkdown: docs/recipes.md).
//
// It decides what a recipe means, not how a run executes: the engine in core
// takes the decoded Recipe from here.
package hcl

//go:generate go test -run TestRecipeReference -update
