package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// member is one member of a JSON object, in the order it was written.
type member struct {
	Key   string
	Value json.RawMessage
}

// objectMembers splits the JSON object raw into its members, keeping their
// order. It fails when raw is not a single JSON object.
func objectMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{Key: key, Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return out, nil
}

// canonicalJSON re-encodes the JSON value raw compactly: object members keep
// their order, numbers keep their text, strings are re-escaped without HTML
// escaping. Two spellings of the same value (spaces, \u escapes) give the
// same result, which is how the text formats keep arguments stable.
func canonicalJSON(raw []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	if err := writeCanonical(&b, dec); err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("trailing data after the JSON value")
	}
	return b.String(), nil
}

func writeCanonical(b *strings.Builder, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			b.WriteByte('{')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				k, err := dec.Token()
				if err != nil {
					return err
				}
				writeString(b, k.(string))
				b.WriteByte(':')
				if err := writeCanonical(b, dec); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			b.WriteByte('}')
		case '[':
			b.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				if err := writeCanonical(b, dec); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			b.WriteByte(']')
		default:
			return fmt.Errorf("unexpected %q", t)
		}
	case string:
		writeString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	}
	return nil
}

// writeString writes s as a JSON string without HTML escaping.
func writeString(b *strings.Builder, s string) {
	b.WriteString(jsonString(s))
}

// jsonString is s as a JSON string literal, without HTML escaping; bytes
// that are not UTF-8 become U+FFFD, written as the character itself.
func jsonString(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// CanonicalArguments returns the canonical text of a tool call's arguments
// (a JSON object): compact, members in their original order, strings
// without HTML escaping. The text formats produce arguments in this form,
// so comparing a native call with its text round trip means comparing
// canonical arguments.
func CanonicalArguments(args string) (string, error) {
	if _, err := objectMembers([]byte(args)); err != nil {
		return "", fmt.Errorf("arguments: %w", err)
	}
	return canonicalJSON([]byte(args))
}
