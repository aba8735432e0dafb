package swetools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// kind is the type of a tool parameter.
type kind int

const (
	kString  kind = iota
	kBool         // true/false, or the strings "true"/"false" (OpenHands' is_input)
	kNumber       // a JSON number, or a string holding one
	kInt          // an integral number, or a string holding one
	kIntList      // an array of integers, or a string holding one
)

func (k kind) String() string {
	return [...]string{"a string", `a boolean (true or false, or the string "true" or "false")`, "a number",
		"an integer", "an array of integers such as [1, 20]"}[k]
}

type param struct {
	name     string
	kind     kind
	required bool
	enum     []string
}

type toolSpec struct {
	name   string
	params []param
}

// Editor commands.
const (
	cmdView       = "view"
	cmdCreate     = "create"
	cmdStrReplace = "str_replace"
	cmdInsert     = "insert"
	cmdUndo       = "undo_edit"
)

var editorCommands = []string{cmdView, cmdCreate, cmdStrReplace, cmdInsert, cmdUndo}

// specs are the tools' parameters, exactly OpenHands' names.
var specs = map[string]toolSpec{
	ToolExecuteBash: {ToolExecuteBash, []param{
		{name: "command", kind: kString, required: true},
		{name: "is_input", kind: kBool},
		{name: "timeout", kind: kNumber},
	}},
	ToolEditor: {ToolEditor, []param{
		{name: "command", kind: kString, required: true, enum: editorCommands},
		{name: "path", kind: kString, required: true},
		{name: "file_text", kind: kString},
		{name: "old_str", kind: kString},
		{name: "new_str", kind: kString},
		{name: "insert_line", kind: kInt},
		{name: "view_range", kind: kIntList},
	}},
	ToolThink: {ToolThink, []param{
		{name: "thought", kind: kString, required: true},
	}},
	ToolFinish: {ToolFinish, []param{
		{name: "message", kind: kString},
	}},
}

// ignored are parameters newer OpenHands versions add to every tool or to
// finish; they are accepted and have no effect.
var ignored = map[string]bool{"security_risk": true, "task_completed": true}

// callArgs are a call's decoded arguments; a parameter the model left out
// (or sent as null) has no entry.
type callArgs struct {
	strs  map[string]string
	bools map[string]bool
	nums  map[string]float64
	ints  map[string]int
	lists map[string][]int
}

func (a callArgs) has(name string) bool {
	if _, ok := a.strs[name]; ok {
		return true
	}
	if _, ok := a.bools[name]; ok {
		return true
	}
	if _, ok := a.nums[name]; ok {
		return true
	}
	if _, ok := a.ints[name]; ok {
		return true
	}
	_, ok := a.lists[name]
	return ok
}

func (s toolSpec) names() string {
	var n []string
	for _, p := range s.params {
		n = append(n, p.name)
	}
	return strings.Join(n, ", ")
}

// parseArgs decodes the JSON text of a call's arguments against spec. A
// non-empty msg is the observation that tells the model what is wrong.
func parseArgs(spec toolSpec, text string) (a callArgs, msg string) {
	a = callArgs{strs: map[string]string{}, bools: map[string]bool{}, nums: map[string]float64{},
		ints: map[string]int{}, lists: map[string][]int{}}
	raw := map[string]json.RawMessage{}
	if t := strings.TrimSpace(text); t != "" {
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() {
			return a, fmt.Sprintf("Error: the arguments of %s are not valid JSON (%s). Send them as one JSON object, for example %s.",
				spec.name, jsonProblem(err), example(spec))
		}
		if err := json.Unmarshal([]byte(t), &raw); err != nil {
			return a, fmt.Sprintf("Error: the arguments of %s must be a JSON object, for example %s.", spec.name, example(spec))
		}
	}
	known := map[string]param{}
	for _, p := range spec.params {
		known[p.name] = p
	}
	for name := range raw {
		if _, ok := known[name]; !ok && !ignored[name] {
			return a, fmt.Sprintf("Error: %s has no parameter %q; its parameters are %s.", spec.name, name, spec.names())
		}
	}
	for _, p := range spec.params {
		v, ok := raw[p.name]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			if p.required {
				return a, fmt.Sprintf("Error: the parameter %q of %s is required.", p.name, spec.name)
			}
			continue
		}
		if err := decodeParam(a, p, v); err != "" {
			return a, fmt.Sprintf("Error: the parameter %q of %s must be %s; %s.", p.name, spec.name, p.kind, err)
		}
		if p.enum != nil {
			s := a.strs[p.name]
			ok := false
			for _, e := range p.enum {
				ok = ok || s == e
			}
			if !ok {
				return a, fmt.Sprintf("Error: the parameter %q of %s must be one of %s, not %q.", p.name, spec.name, strings.Join(p.enum, ", "), s)
			}
		}
	}
	return a, ""
}

func jsonProblem(err error) string {
	if err == nil {
		return "more than one JSON value"
	}
	return err.Error()
}

func example(spec toolSpec) string {
	switch spec.name {
	case ToolExecuteBash:
		return `{"command": "ls -la"}`
	case ToolEditor:
		return `{"command": "view", "path": "/testbed/README.md"}`
	case ToolThink:
		return `{"thought": "..."}`
	}
	return `{"message": "..."}`
}

// decodeParam stores v as p's value in a, or says what is wrong with it.
func decodeParam(a callArgs, p param, v json.RawMessage) string {
	var s string
	isString := json.Unmarshal(v, &s) == nil
	switch p.kind {
	case kString:
		if !isString {
			return "got " + describe(v)
		}
		a.strs[p.name] = s
	case kBool:
		var b bool
		switch {
		case json.Unmarshal(v, &b) == nil:
		case isString && strings.EqualFold(strings.TrimSpace(s), "true"):
			b = true
		case isString && strings.EqualFold(strings.TrimSpace(s), "false"):
			b = false
		default:
			return "got " + describe(v)
		}
		a.bools[p.name] = b
	case kNumber, kInt:
		text := string(bytes.TrimSpace(v))
		if isString {
			text = strings.TrimSpace(s)
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || (!isString && !json.Valid(v)) {
			return "got " + describe(v)
		}
		if p.kind == kNumber {
			a.nums[p.name] = f
			break
		}
		if f != math.Trunc(f) || math.Abs(f) > 1e9 {
			return "got " + describe(v)
		}
		a.ints[p.name] = int(f)
	case kIntList:
		list := v
		if isString {
			list = json.RawMessage(s)
		}
		var fs []float64
		if err := json.Unmarshal(list, &fs); err != nil {
			return "got " + describe(v)
		}
		out := make([]int, len(fs))
		for i, f := range fs {
			if f != math.Trunc(f) || math.Abs(f) > 1e9 {
				return "got " + describe(v)
			}
			out[i] = int(f)
		}
		a.lists[p.name] = out
	}
	return ""
}

// describe names a JSON value for an error message, shortened.
func describe(v json.RawMessage) string {
	t := strings.TrimSpace(string(v))
	kind := "the value"
	switch {
	case strings.HasPrefix(t, `"`):
		kind = "the string"
	case strings.HasPrefix(t, "{"):
		kind = "the object"
	case strings.HasPrefix(t, "["):
		kind = "the array"
	case t == "true" || t == "false":
		kind = "the boolean"
	case t != "" && strings.ContainsRune("-0123456789", rune(t[0])):
		kind = "the number"
	}
	if len(t) > 60 {
		t = t[:57] + "..."
	}
	return kind + " " + t
}
