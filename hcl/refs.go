package hcl

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// graph is the reference graph between local values and blocks. Nodes are
// in file order; an edge goes from the node whose expression holds a
// reference to the node it refers to.
type graph struct {
	names []string
	index map[string]int
	edges [][]edge
	local []bool // node is a local value
	block []*Block
}

type edge struct {
	to  int
	rng hcl.Range // the reference
}

func (g *graph) add(name string, local bool, b *Block) {
	g.index[name] = len(g.names)
	g.names = append(g.names, name)
	g.edges = append(g.edges, nil)
	g.local = append(g.local, local)
	g.block = append(g.block, b)
}

// link adds an edge unless the same edge exists.
func (g *graph) link(from, to int, rng hcl.Range) {
	for _, e := range g.edges[from] {
		if e.to == to {
			return
		}
	}
	g.edges[from] = append(g.edges[from], edge{to, rng})
}

// references checks every reference of every expression, builds the
// reference graph and reports its cycles.
func (l *loader) references() {
	type node struct {
		name  string
		start int
		local bool
		block *Block
		refs  []hcl.Traversal
	}
	var nodes []node
	for _, lc := range l.locals {
		nodes = append(nodes, node{"local." + lc.name, lc.attr.Range.Start.Byte, true, nil, lc.attr.Expr.Variables()})
	}
	var others [][]hcl.Traversal // plugin and swelego bodies: checked, not in the graph
	for _, pb := range l.bodies {
		refs := bodyTraversals(pb.body, pb.spec)
		for _, nb := range pb.nested {
			refs = append(refs, bodyTraversals(nb.body, nb.spec)...)
			if len(nb.np.core) > 0 {
				refs = append(refs, hcldec.Variables(nb.hb.Body, nb.np.core)...)
			}
		}
		if pb.block == nil {
			others = append(others, refs)
			continue
		}
		nodes = append(nodes, node{pb.address, pb.hb.DefRange.Start.Byte, false, pb.block, refs})
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].start < nodes[j].start })

	g := &graph{index: map[string]int{}}
	for _, n := range nodes {
		g.add(n.name, n.local, n.block)
	}
	l.graph = g
	check := func(from int, refs []hcl.Traversal) {
		sortTraversals(refs)
		for _, t := range refs {
			target := l.reference(t)
			if to, ok := g.index[target]; ok && from >= 0 {
				g.link(from, to, t.SourceRange())
			}
		}
	}
	for i, n := range nodes {
		check(i, n.refs)
	}
	for _, refs := range others {
		check(-1, refs)
	}
	l.cycles()
}

// bodyTraversals returns the references of a body: the traversals its
// spec decodes, or, for a body whose spec is unknown (a plugin-defined
// body without a schema), every traversal in its syntax tree.
func bodyTraversals(body hcl.Body, spec hcldec.Spec) []hcl.Traversal {
	if spec != nil {
		return hcldec.Variables(body, spec)
	}
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var refs []hcl.Traversal
	for _, a := range sb.Attributes {
		refs = append(refs, a.Expr.Variables()...)
	}
	for _, b := range sb.Blocks {
		refs = append(refs, bodyTraversals(b.Body, nil)...)
	}
	return refs
}

func sortTraversals(refs []hcl.Traversal) {
	sort.SliceStable(refs, func(i, j int) bool {
		return refs[i].SourceRange().Start.Byte < refs[j].SourceRange().Start.Byte
	})
}

// traversalName returns the name step i of t names (t[i] is .name or
// ["name"]).
func traversalName(t hcl.Traversal, i int) (string, bool) {
	if i >= len(t) {
		return "", false
	}
	switch s := t[i].(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.IsKnown() && !s.Key.IsNull() && s.Key.Type() == cty.String {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

// reference checks that t refers to something declared and returns what:
// "var.NAME", "local.NAME" or a block address. An invalid reference is
// reported, bound to an unknown value, and yields "".
func (l *loader) reference(t hcl.Traversal) string {
	root := t.RootName()
	rng := t.SourceRange()
	path := []string{root}
	for i := 1; i < len(t); i++ {
		name, ok := traversalName(t, i)
		if !ok {
			break
		}
		path = append(path, name)
	}
	fail := func(summary, detail string) string {
		l.addError(summary, detail, &rng)
		l.placeholders = append(l.placeholders, path)
		return ""
	}
	switch root {
	case "var", "local":
		what, noun := "input variable", "variable"
		if root == "local" {
			what, noun = "local value", "local value"
		}
		if len(path) < 2 {
			return fail("Invalid reference", fmt.Sprintf("A reference to %q must be followed by the name of a %s, like %s.example.", root, noun, root))
		}
		name := path[1]
		var names []string
		if root == "var" {
			if l.varIndex[name] != nil {
				return "var." + name
			}
			for _, v := range l.vars {
				names = append(names, v.name)
			}
		} else {
			if l.localIndex[name] != nil {
				return "local." + name
			}
			for _, lc := range l.locals {
				names = append(names, lc.name)
			}
		}
		detail := fmt.Sprintf("No %s named %q is declared.", what, name)
		if s := suggest(name, names); s != "" {
			detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
		} else if root == "var" {
			detail += fmt.Sprintf(" Declare it with a variable %q block.", name)
		}
		return fail("Reference to undeclared "+what, detail)
	}
	bs := blockSchemas[root]
	if bs == nil || !bs.ref {
		return fail("Unknown variable", fmt.Sprintf("There is no variable named %q. An expression may refer to var.NAME, local.NAME, plugin.NAME and to blocks by address, like source.TYPE.NAME or model.NAME.", root))
	}
	example := address(root, upper(bs.labels))
	if len(path) < len(bs.labels)+1 {
		return fail("Invalid reference", fmt.Sprintf("A reference to a %s block must name it, like %s.", root, example))
	}
	addr := address(root, path[1:len(bs.labels)+1])
	if l.declared[addr] == nil {
		var addrs []string
		for a := range l.declared {
			if strings.HasPrefix(a, root+".") || a == root {
				addrs = append(addrs, a)
			}
		}
		sort.Strings(addrs)
		detail := fmt.Sprintf("There is no %s block %s in the recipe.", root, addr)
		if len(bs.labels) == 0 {
			detail = fmt.Sprintf("The recipe has no %s block.", root)
		}
		if s := suggest(addr, addrs); s != "" {
			detail += fmt.Sprintf(" Did you mean %s?", s)
		}
		return fail("Reference to undeclared block", detail)
	}
	return addr
}

func upper(labels []string) []string {
	u := make([]string, len(labels))
	for i, s := range labels {
		u[i] = strings.ToUpper(s)
	}
	return u
}

// cycles reports every cycle of the reference graph, one per strongly
// connected component, at the reference that leaves its first node.
func (l *loader) cycles() {
	g := l.graph
	for _, comp := range sccs(g) {
		start := comp[0]
		in := map[int]bool{}
		for _, n := range comp {
			in[n] = true
		}
		// shortest way back to start, breadth first within the component
		prev := map[int]int{}
		queue := []int{}
		for _, e := range g.edges[start] {
			if in[e.to] {
				if _, seen := prev[e.to]; !seen {
					prev[e.to] = start
					queue = append(queue, e.to)
				}
			}
		}
		for len(queue) > 0 && !hasKey(prev, start) {
			n := queue[0]
			queue = queue[1:]
			for _, e := range g.edges[n] {
				if in[e.to] && !hasKey(prev, e.to) {
					prev[e.to] = n
					queue = append(queue, e.to)
				}
			}
		}
		path := []int{start}
		for n := prev[start]; n != start; n = prev[n] {
			path = append(path, n)
		}
		path = append(path, start)
		// path runs backwards from start to start: reverse the middle
		for i, j := 1, len(path)-2; i < j; i, j = i+1, j-1 {
			path[i], path[j] = path[j], path[i]
		}
		names := make([]string, len(path))
		for i, n := range path {
			names[i] = g.names[n]
		}
		var rng hcl.Range
		for _, e := range g.edges[start] {
			if e.to == path[1] {
				rng = e.rng
			}
		}
		l.addError("Reference cycle",
			fmt.Sprintf("The references form a cycle: %s. A block or local value cannot depend on itself, directly or through others.", strings.Join(names, " → ")),
			&rng)
	}
}

func hasKey(m map[int]int, k int) bool {
	_, ok := m[k]
	return ok
}

// sccs returns the strongly connected components of g that contain a
// cycle, each sorted, ordered by their first node (Tarjan's algorithm).
func sccs(g *graph) [][]int {
	n := len(g.names)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, e := range g.edges[v] {
			switch {
			case index[e.to] < 0:
				visit(e.to)
				low[v] = min(low[v], low[e.to])
			case onStack[e.to]:
				low[v] = min(low[v], index[e.to])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		selfLoop := false
		for _, e := range g.edges[v] {
			selfLoop = selfLoop || e.to == v
		}
		if len(comp) > 1 || selfLoop {
			sort.Ints(comp)
			out = append(out, comp)
		}
	}
	for v := 0; v < n; v++ {
		if index[v] < 0 {
			visit(v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// topo orders nodes 0…n-1 so that each comes after its deps, taking the
// lowest ready node first (Kahn's algorithm); nodes left on cycles follow in
// index order.
func topo(n int, deps [][]int) []int {
	pending := make([]int, n)
	users := make([][]int, n)
	for i := 0; i < n; i++ {
		for _, d := range deps[i] {
			if d != i {
				pending[i]++
				users[d] = append(users[d], i)
			}
		}
	}
	ready := &intHeap{}
	for i := 0; i < n; i++ {
		if pending[i] == 0 {
			heap.Push(ready, i)
		}
	}
	done := make([]bool, n)
	order := make([]int, 0, n)
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		done[i] = true
		order = append(order, i)
		for _, u := range users[i] {
			if pending[u]--; pending[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	for i := 0; i < n; i++ {
		if !done[i] {
			order = append(order, i)
		}
	}
	return order
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// evalLocals evaluates the local values, each after those it refers to,
// in a context whose local object holds just the local values referenced.
func (l *loader) evalLocals() {
	g := l.graph
	deps := make([][]int, len(g.names))
	for i := range g.names {
		for _, e := range g.edges[i] {
			if g.local[e.to] {
				deps[i] = append(deps[i], e.to)
			}
		}
	}
	base := l.evalContext()
	for _, i := range topo(len(g.names), deps) {
		if !g.local[i] {
			continue
		}
		lc := l.localIndex[strings.TrimPrefix(g.names[i], "local.")]
		evalCtx := base.NewChild()
		evalCtx.Variables = map[string]cty.Value{"local": l.localsFor(lc.attr.Expr)}
		val, diags := lc.attr.Expr.Value(evalCtx)
		l.diags = append(l.diags, diags...)
		if val == cty.NilVal {
			val = cty.DynamicVal
		}
		lc.value = val
	}
	for _, lc := range l.locals {
		l.r.Locals[lc.name] = lc.value
	}
}

// localsFor is the local object for evaluating expr: the local values it
// refers to, unknown when not (yet) known.
func (l *loader) localsFor(expr hcl.Expression) cty.Value {
	attrs := map[string]cty.Value{}
	for _, t := range expr.Variables() {
		if t.RootName() != "local" {
			continue
		}
		name, ok := traversalName(t, 1)
		if !ok {
			return l.localObject()
		}
		if lc := l.localIndex[name]; lc != nil {
			attrs[name] = lc.value
		} else {
			attrs[name] = cty.DynamicVal
		}
	}
	return cty.ObjectVal(attrs)
}

// blockDeps returns the blocks node i refers to, directly or through
// local values, in file order. memo keeps the result for local values.
func (g *graph) blockDeps(i int, memo map[int][]int) []int {
	if deps, ok := memo[i]; ok {
		return deps
	}
	if g.local[i] {
		memo[i] = nil // a cycle through i stops here
	}
	seen := map[int]bool{}
	var deps []int
	for _, e := range g.edges[i] {
		targets := []int{e.to}
		if g.local[e.to] {
			targets = g.blockDeps(e.to, memo)
		}
		for _, t := range targets {
			if t != i && !seen[t] {
				seen[t] = true
				deps = append(deps, t)
			}
		}
	}
	sort.Ints(deps)
	if g.local[i] {
		memo[i] = deps
	}
	return deps
}

// order fills in DependsOn and the topological order of the stages.
func (l *loader) order() {
	g := l.graph
	deps := make([][]int, len(g.names))
	memo := map[int][]int{}
	for i := range g.names {
		if g.local[i] {
			continue
		}
		deps[i] = g.blockDeps(i, memo)
		for _, d := range deps[i] {
			g.block[i].DependsOn = append(g.block[i].DependsOn, g.names[d])
		}
	}
	for _, i := range topo(len(g.names), deps) {
		if b := g.block[i]; b != nil && b.IsStage() {
			l.r.Stages = append(l.r.Stages, b)
		}
	}
}

// nsTree builds the nested objects of the evaluation context.
type nsTree struct {
	leaf cty.Value
	kids map[string]*nsTree
}

func (t *nsTree) child(name string) *nsTree {
	if t.kids == nil {
		t.kids = map[string]*nsTree{}
	}
	c := t.kids[name]
	if c == nil {
		c = &nsTree{}
		t.kids[name] = c
	}
	return c
}

func (t *nsTree) set(path []string, v cty.Value) {
	n := t
	for _, p := range path {
		n = n.child(p)
	}
	n.leaf = v
}

// fill binds path to an unknown value unless a value is already there.
func (t *nsTree) fill(path []string) {
	n := t
	for _, p := range path {
		if n.leaf != cty.NilVal {
			return
		}
		n = n.child(p)
	}
	if n.leaf == cty.NilVal && len(n.kids) == 0 {
		n.leaf = cty.DynamicVal
	}
}

func (t *nsTree) value() cty.Value {
	if t.leaf != cty.NilVal {
		return t.leaf
	}
	return cty.ObjectVal(t.attrs())
}

func (t *nsTree) attrs() map[string]cty.Value {
	m := make(map[string]cty.Value, len(t.kids))
	for k, c := range t.kids {
		m[k] = c.value()
	}
	return m
}

// evalContext is the context block bodies and local values are evaluated
// in: var, local, every referenceable block by address, and the functions.
func (l *loader) evalContext() *hcl.EvalContext {
	t := &nsTree{}
	t.child("var")
	for _, name := range sortedKeys(blockSchemas) {
		if bs := blockSchemas[name]; bs.ref && len(bs.labels) > 0 {
			t.child(name)
		}
	}
	for _, v := range l.vars {
		t.set([]string{"var", v.name}, v.value)
	}
	for _, pb := range l.bodies {
		if pb.schema.ref {
			t.set(append([]string{pb.hb.Type}, pb.hb.Labels...), refObject(pb))
		}
	}
	for _, p := range l.placeholders {
		t.fill(p)
	}
	vars := t.attrs()
	vars["local"] = l.localObject()
	return &hcl.EvalContext{Variables: vars, Functions: l.funcs}
}

// localObject is the value of local: every local value (unknown until
// evaluated) and the undeclared names referenced, as unknown values.
func (l *loader) localObject() cty.Value {
	t := &nsTree{}
	for _, lc := range l.locals {
		t.set([]string{lc.name}, lc.value)
	}
	for _, p := range l.placeholders {
		if len(p) > 1 && p[0] == "local" {
			t.fill(p[1:])
		}
	}
	return cty.ObjectVal(t.attrs())
}

// refObject is the value of a reference to a block: its address, type and
// name, and for plugin-defined blocks the plugin.
func refObject(pb *pendingBody) cty.Value {
	name := ""
	if n := len(pb.hb.Labels); n > 0 {
		name = pb.hb.Labels[n-1]
	}
	attrs := map[string]cty.Value{
		"address": cty.StringVal(pb.address),
		"type":    cty.StringVal(pb.hb.Type),
		"name":    cty.StringVal(name),
	}
	if p := pb.schema.plugin; p != nil {
		attrs["plugin"] = cty.StringVal(pb.hb.Labels[p.label])
	}
	return cty.ObjectVal(attrs)
}
