package sftdata

// Row is one training row: one sequence, or several packed one after the
// other with their own segment ids so that none attends to another.
// Targets[t] is the token at t+1 of the same sequence and Weights[t] its
// training weight; the last position of each sequence predicts nothing
// (weight 0).
type Row struct {
	Tokens, Targets []int32
	Weights         []float32
	// Segments numbers the packed sequences of the row from 0.
	Segments []int32
	// Examples are the indices of the packed examples, in row order.
	Examples []int
}

// Len is the number of positions.
func (r *Row) Len() int { return len(r.Tokens) }

// Trained counts positions with a non-zero weight.
func (r *Row) Trained() int {
	n := 0
	for _, w := range r.Weights {
		if w != 0 {
			n++
		}
	}
	return n
}

func (r *Row) add(ex *Example, index int) {
	seg := int32(len(r.Examples))
	n := len(ex.IDs)
	for t := range n {
		r.Tokens = append(r.Tokens, ex.IDs[t])
		r.Segments = append(r.Segments, seg)
		if t+1 < n {
			r.Targets = append(r.Targets, ex.IDs[t+1])
			r.Weights = append(r.Weights, ex.Weights[t+1])
		} else {
			r.Targets = append(r.Targets, 0)
			r.Weights = append(r.Weights, 0)
		}
	}
	r.Examples = append(r.Examples, index)
}

// Pack lays out the examples in order as rows. Without packing each
// example is a row; with packing consecutive examples share a row while
// their tokens fit in seqLen (next-fit, which keeps the curriculum's order).
// An example longer than seqLen gets a row of its own.
func Pack(examples []*Example, order []int, seqLen int, packing bool) []Row {
	var rows []Row
	for _, i := range order {
		ex := examples[i]
		if packing && len(rows) > 0 {
			last := &rows[len(rows)-1]
			if last.Len()+len(ex.IDs) <= seqLen {
				last.add(ex, i)
				continue
			}
		}
		var r Row
		r.add(ex, i)
		rows = append(rows, r)
	}
	return rows
}
