package hcl

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/swelego/swelego/sdk"
)

// EnvVarPrefix prefixes the environment variables that set input
// variables: SWELEGO_VAR_workers=4 sets var.workers.
const EnvVarPrefix = "SWELEGO_VAR_"

// varDecl is a variable block.
type varDecl struct {
	name      string
	block     *hcl.Block
	typ       cty.Type
	defaults  *typeexpr.Defaults
	def       cty.Value // the default, cty.NilVal if none
	typeRange hcl.Range // the type expression, or the block header
	value     cty.Value
	set       bool
	broken    bool // the declaration has errors already reported
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"},
}}

// declareVariable decodes a variable block: its type constraint (with
// optional() defaults, as Terraform's) and its default value.
func (l *loader) declareVariable(hb *hcl.Block) {
	v := &varDecl{name: hb.Labels[0], block: hb, typ: cty.DynamicPseudoType, typeRange: hb.DefRange, value: cty.DynamicVal}
	l.vars = append(l.vars, v)
	l.varIndex[v.name] = v
	content, diags := hb.Body.Content(variableSchema)
	l.diags = append(l.diags, diags...)
	if a := content.Attributes["type"]; a != nil {
		v.typeRange = a.Expr.Range()
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			v.broken = true
		} else {
			v.typ, v.defaults = ty, defaults
		}
	}
	if a := content.Attributes["description"]; a != nil {
		val, diags := a.Expr.Value(l.funcCtx())
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			if _, err := convert.Convert(val, cty.String); err != nil {
				rng := a.Expr.Range()
				l.addError("Invalid variable description", "The description must be a string.", &rng)
			}
		}
	}
	if a := content.Attributes["default"]; a != nil {
		val, diags := a.Expr.Value(l.funcCtx())
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			v.broken = true
			return
		}
		cv, err := v.convert(val)
		if err != nil {
			v.broken = true
			rng := a.Expr.Range()
			l.addError("Invalid default value for variable",
				fmt.Sprintf("The default value of variable %q is not a valid %s: %s.", v.name, typeexpr.TypeString(v.typ), pathError("default", err)),
				&rng)
			return
		}
		v.def = cv
	}
}

// convert applies the variable's optional-attribute defaults and converts
// val to its type.
func (v *varDecl) convert(val cty.Value) (cty.Value, error) {
	if v.defaults != nil && !val.IsNull() && val.IsWhollyKnown() {
		val = v.defaults.Apply(val)
	}
	return convert.Convert(val, v.typ)
}

// resolveVariables gives every variable its value from, in rising
// precedence, its default, SWELEGO_VAR_NAME, the -var-file files and the
// -var flags.
func (l *loader) resolveVariables() {
	for _, v := range l.vars {
		if v.def != cty.NilVal {
			v.value, v.set = v.def, true
		}
	}
	for _, v := range l.vars {
		env := EnvVarPrefix + v.name
		if raw, ok := l.environ[env]; ok {
			if val, ok := l.parseValue(v, raw, "the environment variable "+env); ok {
				v.value, v.set = val, true
			}
		}
	}
	for _, path := range l.opts.VarFiles {
		l.varFile(path)
	}
	for _, flag := range l.opts.Vars {
		name, raw, ok := strings.Cut(flag, "=")
		if !ok {
			l.addError("Invalid -var option",
				fmt.Sprintf("The -var option %q is not of the form NAME=VALUE; write for example -var 'workers=4'.", flag), nil)
			continue
		}
		name = strings.TrimSpace(name)
		v := l.varIndex[name]
		if v == nil {
			l.undeclaredVariable(name, "-var", nil)
			continue
		}
		if val, ok := l.parseValue(v, raw, "-var "+name); ok {
			v.value, v.set = val, true
		}
	}
	for _, v := range l.vars {
		if !v.set && !v.broken {
			l.addError("No value for required variable",
				fmt.Sprintf("The variable %q has no default value: give it one with -var '%s=…', a -var-file or the environment variable %s%s.", v.name, v.name, EnvVarPrefix, v.name),
				&v.block.DefRange)
			v.value = cty.DynamicVal
		}
		l.r.Variables[v.name] = v.value
	}
}

// varFile reads a -var-file: attributes NAME = VALUE, which may call
// functions but refer to nothing.
func (l *loader) varFile(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		l.addError("Cannot read variable file", fmt.Sprintf("Cannot read the -var-file %s: %s.", path, err), nil)
		return
	}
	f, diags := l.parser.ParseHCL(src, path)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || f == nil {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for _, a := range sortedAttributes(attrs) {
		v := l.varIndex[a.Name]
		if v == nil {
			l.undeclaredVariable(a.Name, "the -var-file "+path, &a.NameRange)
			continue
		}
		val, diags := a.Expr.Value(l.funcCtx())
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			v.broken = true
			continue
		}
		cv, err := v.convert(val)
		if err != nil {
			v.broken = true
			rng := a.Expr.Range()
			l.addError("Invalid value for variable",
				fmt.Sprintf("The value of variable %q is not a valid %s: %s.", v.name, typeexpr.TypeString(v.typ), pathError(v.name, err)),
				&rng)
			continue
		}
		v.value, v.set = cv, true
	}
}

// parseValue turns a value given as text (-var, environment) into a value of
// the variable's type. A string variable takes the text as it is; any other
// type first tries the text as an HCL expression, then as a string, as
// Terraform does.
func (l *loader) parseValue(v *varDecl, raw, via string) (cty.Value, bool) {
	if v.typ == cty.String {
		return cty.StringVal(raw), true
	}
	var exprErr error
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "<value for var."+v.name+">", hcl.InitialPos)
	if !diags.HasErrors() && len(expr.Variables()) == 0 {
		val, diags := expr.Value(l.funcCtx())
		if !diags.HasErrors() {
			cv, err := v.convert(val)
			if err == nil {
				return cv, true
			}
			exprErr = err
		}
	}
	cv, err := v.convert(cty.StringVal(raw))
	if err == nil {
		return cv, true
	}
	if exprErr != nil {
		err = exprErr
	}
	v.broken = true
	l.addError("Invalid value for variable",
		fmt.Sprintf("The value %q given by %s is not a valid %s for variable %q: %s.", raw, via, typeexpr.TypeString(v.typ), v.name, pathError(v.name, err)),
		&v.typeRange)
	return cty.NilVal, false
}

// undeclaredVariable reports a value given for a variable the recipe does
// not declare, at subject (a -var-file attribute) or, for -var flags, at
// the declaration of the variable the name probably meant.
func (l *loader) undeclaredVariable(name, via string, subject *hcl.Range) {
	detail := fmt.Sprintf("A value for variable %q was given by %s, but the recipe declares no such variable.", name, via)
	names := make([]string, len(l.vars))
	for i, v := range l.vars {
		names[i] = v.name
	}
	if s := suggest(name, names); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
		if subject == nil {
			subject = &l.varIndex[s].block.DefRange
		}
	} else {
		detail += " Declare it with a variable block or remove the value."
	}
	l.addError("Value for undeclared variable", detail, subject)
}

// suggest returns the candidate closest to name, if one is close enough
// to be a likely typo.
func suggest(name string, candidates []string) string { return sdk.Closest(name, candidates) }
