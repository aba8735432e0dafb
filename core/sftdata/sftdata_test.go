package sftdata_test

import (
	"reflect"
	"testing"

	"github.com/swelego/swelego/core/sftdata"
)

func ex(id string, ids []int32, w []float32) *sftdata.Example {
	return &sftdata.Example{ID: id, IDs: ids, Weights: w}
}

// Packed rows shift targets within each sequence and never across: the
// last token of a sequence predicts nothing.
func TestPack(t *testing.T) {
	exs := []*sftdata.Example{
		ex("a", []int32{1, 2, 3}, []float32{0, 1, 1}),
		ex("b", []int32{4, 5}, []float32{0, 1}),
		ex("c", []int32{6, 7, 8, 9}, []float32{0, 0, 1, 1}),
	}
	rows := sftdata.Pack(exs, []int{0, 1, 2}, 6, true)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (a+b fit in 6, c does not)", len(rows))
	}
	r := rows[0]
	want := sftdata.Row{
		Tokens:   []int32{1, 2, 3, 4, 5},
		Targets:  []int32{2, 3, 0, 5, 0},
		Weights:  []float32{1, 1, 0, 1, 0},
		Segments: []int32{0, 0, 0, 1, 1},
		Examples: []int{0, 1},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("row 0 = %+v\nwant    %+v", r, want)
	}
	if rows[1].Trained() != 2 || !reflect.DeepEqual(rows[1].Examples, []int{2}) {
		t.Errorf("row 1 = %+v", rows[1])
	}
	if got := sftdata.Pack(exs, []int{2, 0, 1}, 6, false); len(got) != 3 || got[0].Examples[0] != 2 {
		t.Errorf("without packing: %+v", got)
	}
	if !reflect.DeepEqual(sftdata.RowOf(exs, []int{0, 1}), want) {
		t.Error("RowOf differs from Pack")
	}
}

func TestMakePlan(t *testing.T) {
	var exs []*sftdata.Example
	for i := range 10 {
		exs = append(exs, ex(string(rune('a'+i)), []int32{1, 2, 3}, []float32{0, 1, 1}))
	}
	stages := []sftdata.Stage{{Name: "easy", Examples: []int{0, 1, 2, 3}, Epochs: 1.5}, {Name: "hard", Examples: []int{4, 5, 6, 7, 8, 9}, Epochs: 1}}
	opts := sftdata.PlanOptions{Seed: 5, GlobalBatch: 4, SeqLen: 3}
	plan, err := sftdata.MakePlan(exs, stages, opts)
	if err != nil {
		t.Fatal(err)
	}
	// easy: a pass of 4 (1 step) and half a pass, 2 (1 step); hard: 6 (2 steps).
	var sizes []int
	seen := map[int]int{}
	for _, st := range plan {
		sizes = append(sizes, len(st.Rows))
		for _, row := range st.Rows {
			for _, i := range row {
				seen[i]++
				if (st.Stage == 0) != (i < 4) {
					t.Errorf("example %d in stage %s", i, st.StageName)
				}
			}
		}
	}
	if !reflect.DeepEqual(sizes, []int{4, 2, 4, 2}) {
		t.Errorf("batch sizes %v, want [4 2 4 2]", sizes)
	}
	for i := 4; i < 10; i++ {
		if seen[i] != 1 {
			t.Errorf("hard example %d trained %d times, want once", i, seen[i])
		}
	}
	if e := plan[len(plan)-1].Epoch; e != 2.5 {
		t.Errorf("last epoch %g, want 2.5", e)
	}
	again, _ := sftdata.MakePlan(exs, stages, opts)
	if !reflect.DeepEqual(plan, again) {
		t.Error("the same inputs gave another plan")
	}
	opts.Seed = 6
	other, _ := sftdata.MakePlan(exs, stages, opts)
	if reflect.DeepEqual(plan, other) {
		t.Error("another seed gave the same order")
	}
	if _, err := sftdata.MakePlan(exs, []sftdata.Stage{{Name: "x", Examples: []int{10}, Epochs: 1}}, opts); err == nil {
		t.Error("an example out of range was accepted")
	}
	if _, err := sftdata.MakePlan(exs, stages, sftdata.PlanOptions{GlobalBatch: 0}); err == nil {
		t.Error("global batch 0 was accepted")
	}
}
