package awsconfig

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/ini.v1"
)

// This file reads one shared file the way botocore (and so the AWS CLI v2) does. botocore uses Python's
// configparser.RawConfigParser with its defaults (botocore configloader.raw_config_parse):
//   - full-line comments start with '#' or ';' (also when indented); there are NO inline comments, so
//     `region = us-east-1 # x` has the value "us-east-1 # x" (the Go SDK would strip the comment);
//   - a key and its value are split at the first '=' or ':'; keys are lower-cased, values trimmed, quotes kept;
//   - a line indented deeper than the key line above continues its value ("s3 =\n  addressing_style = path",
//     or a credential_process split over lines); blank lines inside such a value are kept;
//   - [DEFAULT] is special: its keys are inherited by every section of the same file;
//   - a key before the first section, a line without '=' or ':', a section twice, or a key twice in one section
//     make the whole file unreadable (ConfigParseError) — the AWS CLI refuses such a file, so we do too;
//   - a value that starts on the next line (a nested block) must have "key = value" lines.
//
// gopkg.in/ini.v1 reads the file. It has no notion of configparser's indentation rule (its Python-multiline mode
// swallows every indented line, so an indented key list would become one value), so normalize first rewrites
// the text into a canonical form in which only continuation lines are indented, and finds the errors above
// with line numbers. Known remaining differences, all in text no AWS tool writes: a value starting with '`'
// or `"""` and a key starting with '[', '"' or '`' or named "-" are special to ini.v1, so we reject them.

// section is one [section] of one file, after [DEFAULT] inheritance.
type section struct {
	name string            // header as written between the brackets
	file string            // path of the file it came from
	keys []string          // key names in file order, then inherited [DEFAULT] keys
	vals map[string]string // key -> value (continuation lines joined with "\n", each trimmed)
}

func (s *section) get(key string) (string, bool) {
	if s == nil {
		return "", false
	}
	v, ok := s.vals[key]
	return v, ok
}

func (s *section) has(key string) bool { _, ok := s.get(key); return ok }

// iniOptions make ini.v1 read the canonical text like configparser reads the original.
var iniOptions = ini.LoadOptions{
	InsensitiveKeys:            true, // configparser's optionxform lower-cases keys; section names keep their case
	IgnoreInlineComment:        true, // configparser has no inline comments by default
	IgnoreContinuation:         true, // a trailing backslash does not join lines
	PreserveSurroundedQuote:    true, // quotes are part of the value
	AllowPythonMultilineValues: true, // indented lines continue the value above (canonical text indents only those)
	KeyValueDelimiters:         "=:",
}

// parseFile parses the content of one file into its sections, in file order.
func parseFile(path string, data []byte) ([]*section, error) {
	canon, lines, perr := normalize(path, data)
	if perr != nil {
		return nil, perr
	}
	opts := iniOptions
	// ini.v1 looks ahead for continuation lines only within its read buffer: make it hold the whole text.
	opts.ReaderBufferSize = len(canon) + 4096
	f, err := ini.LoadSources(opts, []byte(canon))
	if err != nil {
		// normalize accepts only text ini.v1 reads; don't echo ini.v1's message, it quotes the line (a secret?).
		return nil, &Error{File: path, Msg: "cannot be parsed; check it with `aws configure list`"}
	}
	var defaults *ini.Section
	var out []*section
	for _, s := range f.Sections() {
		if s.Name() == ini.DefaultSection {
			defaults = s
			continue
		}
		out = append(out, &section{name: s.Name(), file: path, vals: map[string]string{}})
		addKeys(out[len(out)-1], s)
	}
	if defaults != nil {
		for _, sec := range out {
			addKeys(sec, defaults)
		}
	}
	for _, sec := range out {
		for _, k := range sec.keys {
			v := sec.vals[k]
			if !strings.HasPrefix(v, "\n") {
				continue
			}
			// botocore parses such a value as a nested block of "key = value" lines and fails otherwise.
			for _, l := range strings.Split(v[1:], "\n") {
				if l != "" && !strings.Contains(l, "=") {
					sect := sec.name
					if _, own := lines[[2]string{sect, k}]; !own {
						sect = ini.DefaultSection
					}
					return nil, &Error{File: path, Line: lines[[2]string{sect, k}], Section: sec.name, Key: k,
						Msg: "the indented lines under this key must each read `name = value`; fix or remove them"}
				}
			}
		}
	}
	return out, nil
}

// addKeys copies keys that dst does not have yet (a section's own keys win over [DEFAULT]'s).
func addKeys(dst *section, src *ini.Section) {
	for _, k := range src.Keys() {
		name := k.Name()
		if _, ok := dst.vals[name]; ok {
			continue
		}
		dst.keys = append(dst.keys, name)
		dst.vals[name] = joinValue(k.Value())
	}
}

// joinValue trims each line of a multi-line value, as configparser stores it.
func joinValue(v string) string {
	if !strings.Contains(v, "\n") {
		return v
	}
	ls := strings.Split(v, "\n")
	for i, l := range ls {
		ls[i] = pyStrip(l)
	}
	return strings.TrimRightFunc(strings.Join(ls, "\n"), pySpace)
}

// pySpace is Python's str.isspace: Go's unicode.IsSpace plus the ASCII separators 0x1c-0x1f.
func pySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func pyStrip(s string) string { return strings.TrimFunc(s, pySpace) }

// normalize checks data the way configparser reads it and rewrites it so that ini.v1 sees the same structure:
// headers and keys at column 0, continuation lines indented by two spaces. lines maps {section, key} to the key's
// line number.
func normalize(path string, data []byte) (string, map[[2]string]int, *Error) {
	lineErr := func(n int, msg string) *Error { return &Error{File: path, Line: n, Msg: msg} }
	if !utf8.Valid(data) {
		n := 1 + strings.Count(string(data[:firstInvalid(data)]), "\n")
		return "", nil, lineErr(n, "is not UTF-8 text, which the AWS CLI cannot read; save it as UTF-8")
	}
	text := string(data)
	if strings.HasPrefix(text, "\ufeff") {
		return "", nil, lineErr(1, "starts with a byte-order mark, which the AWS CLI cannot read; save it as UTF-8 without BOM")
	}
	// Python reads text files with universal newlines.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")

	var (
		out         strings.Builder
		cur         string // current section, "" before the first
		inSection   bool
		opt         string // key whose value may continue, "" after a header
		indentLevel int
		blanks      int // blank lines seen inside a value, emitted only if a continuation follows
		seenSect    = map[string]bool{}
		lines       = map[[2]string]int{}
	)
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		stripped := pyStrip(line)
		if strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";") {
			continue // a comment neither ends nor extends a value
		}
		if stripped == "" {
			if opt != "" {
				blanks++
			}
			continue
		}
		indent := 0
		for _, r := range line {
			if !pySpace(r) {
				break
			}
			indent++
		}
		if opt != "" && indent > indentLevel {
			for ; blanks > 0; blanks-- {
				out.WriteString("  \n")
			}
			out.WriteString("  " + stripped + "\n")
			continue
		}
		blanks = 0
		indentLevel = indent
		if h, ok := sectionHeader(stripped); ok {
			// configparser: [DEFAULT] may repeat, other sections may not (strict mode).
			if h != ini.DefaultSection && seenSect[h] {
				return "", nil, &Error{File: path, Line: n, Section: h,
					Msg: "this section appears twice in the file, which the AWS CLI refuses; merge the two"}
			}
			seenSect[h] = true
			cur, inSection, opt = h, true, ""
			out.WriteString("[" + h + "]\n")
			continue
		}
		if !inSection {
			return "", nil, lineErr(n, "a setting before the first [section], which the AWS CLI refuses; move it under a [profile NAME] or [default] header")
		}
		d := strings.IndexAny(stripped, "=:")
		if d < 0 {
			return "", nil, &Error{File: path, Line: n, Section: cur,
				Msg: "a line that is neither a [section], a `name = value` setting nor a comment; fix or remove it"}
		}
		key := strings.ToLower(strings.TrimRightFunc(stripped[:d], pySpace))
		val := pyStrip(stripped[d+1:])
		if key == "" {
			return "", nil, &Error{File: path, Line: n, Section: cur, Msg: "a setting without a name before its '='; fix or remove it"}
		}
		if key == "-" || strings.ContainsAny(key[:1], "[\"`") || strings.HasPrefix(val, "`") || strings.HasPrefix(val, `"""`) {
			return "", nil, &Error{File: path, Line: n, Section: cur, Key: key,
				Msg: "a name starting with [ \" ` or a value starting with ` or \"\"\" is not supported by ssokeep; rename or requote it"}
		}
		if _, dup := lines[[2]string{cur, key}]; dup {
			return "", nil, &Error{File: path, Line: n, Section: cur, Key: key,
				Msg: fmt.Sprintf("set twice in this section (first on line %d), which the AWS CLI refuses; keep one", lines[[2]string{cur, key}])}
		}
		lines[[2]string{cur, key}] = n
		opt = key
		out.WriteString(key + " = " + val + "\n")
	}
	return out.String(), lines, nil
}

// sectionHeader is configparser's SECTCRE `\[(?P<header>.+)\]` matched at the start of the stripped line: the
// header runs to the last ']' (anything after it is ignored) and is not trimmed.
func sectionHeader(s string) (string, bool) {
	if !strings.HasPrefix(s, "[") {
		return "", false
	}
	end := strings.LastIndexByte(s, ']')
	if end < 2 {
		return "", false
	}
	return s[1:end], true
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}
