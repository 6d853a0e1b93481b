package ssocache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"
)

// member is one name/value pair of a JSON object, the value kept as the exact bytes of the file.
type member struct {
	name string
	raw  json.RawMessage
}

// object is a JSON object that keeps its members' order and raw bytes, so fields this package does not know
// survive a rewrite untouched. A name given twice keeps the last value, as encoding/json and Python do.
type object []member

// parseObject parses data as one JSON object. Its errors describe where the input is wrong, never what it
// says: cache files hold secrets.
func parseObject(data []byte) (object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	if !utf8.Valid(data) {
		// botocore reads the file as text and would fail too.
		return nil, errors.New("the file is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonReason(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("the file is not a JSON object")
	}
	var o object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonReason(err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("invalid JSON at byte %d", dec.InputOffset())
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonReason(err)
		}
		o = o.with(name, raw)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, jsonReason(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("there is data after the JSON object")
	}
	return o, nil
}

// jsonReason turns a decoder error into one that gives a position but none of the input.
func jsonReason(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON is cut short")
	default:
		return errors.New("invalid JSON")
	}
}

func (o object) get(name string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.name == name {
			return m.raw, true
		}
	}
	return nil, false
}

// with returns o with name set to raw, in place of an earlier value or at the end. It never writes into o's
// backing array, so copies of a Token never share edits.
func (o object) with(name string, raw json.RawMessage) object {
	out := slices.Clone(o)
	for i := range out {
		if out[i].name == name {
			out[i].raw = slices.Clone(raw)
			return out
		}
	}
	return append(out, member{name: name, raw: slices.Clone(raw)})
}

// unknown returns the members whose names are not in known.
func (o object) unknown(known map[string]bool) object {
	var out object
	for _, m := range o {
		if !known[m.name] {
			out = append(out, m)
		}
	}
	return out
}

// overlay returns base with every member of top set over it: fields on disk survive a rewrite, and the
// caller's own values win.
func overlay(base, top object) object {
	out := slices.Clone(base)
	for _, m := range top {
		out = out.with(m.name, m.raw)
	}
	return out
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// str reads a string member; absent and null both read as "" (present=false).
func (o object) str(name string) (v string, present bool, err error) {
	raw, ok := o.get(name)
	if !ok || isNull(raw) {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, fmt.Errorf("%s is not a string", name)
	}
	return v, true, nil
}

// time reads a time member in any format the CLI, botocore and the SDKs write.
func (o object) time(name string) (v time.Time, present bool, err error) {
	s, ok, err := o.str(name)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	if v, err = parseTime(s); err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", name, err)
	}
	return v, true, nil
}

// strs reads a list of strings; absent and null read as nil, [] as an empty non-nil slice.
func (o object) strs(name string) ([]string, error) {
	raw, ok := o.get(name)
	if !ok || isNull(raw) {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s is not a list of strings", name)
	}
	if v == nil {
		v = []string{}
	}
	return v, nil
}

// objWriter writes a JSON object the way Python's json.dumps does with its default separators (", " and
// ": ") and ensure_ascii, which is how the CLI and botocore write their cache files.
type objWriter struct {
	buf bytes.Buffer
	n   int
}

func (w *objWriter) raw(name string, raw []byte) {
	if w.n == 0 {
		w.buf.WriteByte('{')
	} else {
		w.buf.WriteString(", ")
	}
	w.n++
	w.buf.Write(pyQuote(name))
	w.buf.WriteString(": ")
	w.buf.Write(raw)
}

func (w *objWriter) str(name, v string) { w.raw(name, pyQuote(v)) }

// strOpt writes v unless it is empty.
func (w *objWriter) strOpt(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *objWriter) strs(name string, v []string) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, s := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(pyQuote(s))
	}
	b.WriteByte(']')
	w.raw(name, b.Bytes())
}

func (w *objWriter) members(o object) {
	for _, m := range o {
		w.raw(m.name, m.raw)
	}
}

func (w *objWriter) bytes() []byte {
	if w.n == 0 {
		return []byte("{}")
	}
	w.buf.WriteByte('}')
	return w.buf.Bytes()
}

// pyQuote quotes s as Python's json.dumps does with ensure_ascii=True: only printable ASCII is written as is;
// everything else is escaped, with \uXXXX in lower-case hex and surrogate pairs above the BMP. Cache keys are
// SHA-1 sums of such text, so this has to match byte for byte. Invalid UTF-8 counts as U+FFFD.
func pyQuote(s string) []byte {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	u4 := func(r rune) {
		b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r >= ' ' && r <= '~':
			b = append(b, byte(r))
		case r > 0xffff:
			r -= 0x10000
			u4(0xd800 | (r>>10)&0x3ff)
			u4(0xdc00 | r&0x3ff)
		default:
			u4(r)
		}
	}
	return append(b, '"')
}
