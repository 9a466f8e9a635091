package hosttext_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cutover/cutover/probe/hosttext"
)

func TestLineAndText(t *testing.T) {
	for _, c := range []struct {
		name, in, line, text string
	}{
		{"plain", "hub1.example.com", "hub1.example.com", "hub1.example.com"},
		{"tab is data", "a\tb", "a\tb", "a\tb"},
		{"accents and CJK stay", "café 日本 ✓", "café 日本 ✓", "café 日本 ✓"},
		{"window title", "\x1b]0;pwned\x07", `\x1b]0;pwned\a`, `\x1b]0;pwned\a`},
		{"clear screen", "\x1b[2Jhub", `\x1b[2Jhub`, `\x1b[2Jhub`},
		{"colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`, `\x1b[31mred\x1b[0m`},
		{"newline", "log\nFAKE LINE", `log\nFAKE LINE`, "log\nFAKE LINE"},
		{"carriage return overwrites", "ok\rFAILED", `ok\rFAILED`, `ok\rFAILED`},
		{"windows line ends", "a\r\nb\r\n", `a\r\nb\r\n`, "a\nb\n"},
		{"NUL and backspace", "a\x00b\bc", `a\x00b\bc`, `a\x00b\bc`},
		{"DEL", "a\x7fb", `a\u007fb`, `a\u007fb`},
		{"C1 CSI as UTF-8", "a\u009b2Jb", `a\u009b2Jb`, `a\u009b2Jb`},
		{"C1 CSI as a raw byte", "a\x9b2Jb", `a\x9b2Jb`, `a\x9b2Jb`},
		{"bad UTF-8", "a\xff\xfeb", `a\xff\xfeb`, `a\xff\xfeb`},
		{"right-to-left override", "evil\u202etxt.exe", `evil\u202etxt.exe`, `evil\u202etxt.exe`},
		{"isolates", "\u2066a\u2069", `\u2066a\u2069`, `\u2066a\u2069`},
		{"marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`, `\u200e\u200f\u061c`},
		{"line separator", "a\u2028b", `a\u2028b`, `a\u2028b`},
		{"empty", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := hosttext.Line(c.in); got != c.line {
				t.Errorf("Line(%q) = %q, want %q", c.in, got, c.line)
			}
			if got := hosttext.Text(c.in); got != c.text {
				t.Errorf("Text(%q) = %q, want %q", c.in, got, c.text)
			}
		})
	}
}

func TestField(t *testing.T) {
	if got := hosttext.Field("a\tb\x1b[2J\n"); got != `a\tb\x1b[2J\n` {
		t.Errorf("Field = %q", got)
	}
}

// safe reports why s is not safe for a terminal, or "" when it is.
func safe(s string, newlines bool) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\t', r == '\n' && newlines:
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return "control character"
		case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
			return "bidi control or separator"
		}
	}
	return ""
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{"\x1b]0;pwned\x07", "a\r\nb", "\xe2\x80", "\u202e", "\x9b", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if why := safe(hosttext.Line(s), false); why != "" {
			t.Fatalf("Line(%q) = %q: %s", s, hosttext.Line(s), why)
		}
		if why := safe(hosttext.Text(s), true); why != "" {
			t.Fatalf("Text(%q) = %q: %s", s, hosttext.Text(s), why)
		}
		if safe(s, false) == "" && hosttext.Line(s) != s {
			t.Fatalf("Line changed safe text %q", s)
		}
		if strings.Count(hosttext.Text(s), "\n") != strings.Count(s, "\n") {
			t.Fatalf("Text(%q) changed the number of lines", s)
		}
		// The writer gives the same result however the text is cut into writes.
		for _, cut := range []int{1, 2, 3, 5} {
			var b bytes.Buffer
			w := hosttext.NewWriter(&b)
			for i := 0; i < len(s); i += cut {
				w.Write([]byte(s[i:min(i+cut, len(s))]))
			}
			w.Flush()
			if why := safe(b.String(), true); why != "" {
				t.Fatalf("writer, writes of %d bytes, %q -> %q: %s", cut, s, b.String(), why)
			}
		}
	})
}

func TestWriterSplitsNothing(t *testing.T) {
	var b bytes.Buffer
	w := hosttext.NewWriter(&b)
	// A rune cut across writes, and a Windows line end cut across writes.
	for _, p := range []string{"caf\xc3", "\xa9 ok\r", "\nnext \xe2\x80", "\xae\x1b[2J\r"} {
		if n, err := w.Write([]byte(p)); err != nil || n != len(p) {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "café ok\nnext \\u202e\\x1b[2J\\r"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestWriterKeepsJSON: JSON written through the Writer is still valid JSON with the same
// content, and no raw control or bidi character is left in its bytes.
func TestWriterKeepsJSON(t *testing.T) {
	in := map[string]string{"host": "\x1b]0;pwned\x07hub", "file": "a\u202eb\u009b\x7f\n", "ok": "plain"}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := hosttext.NewWriter(&b)
	w.Write(data)
	w.Flush()
	if why := safe(b.String(), true); why != "" {
		t.Fatalf("%q: %s", b.String(), why)
	}
	var out map[string]string
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatalf("no longer JSON: %v: %s", err, b.String())
	}
	for k, v := range in {
		if out[k] != v {
			t.Errorf("%s: %q, want %q", k, out[k], v)
		}
	}
}
