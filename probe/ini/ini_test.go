package ini_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/ini"
)

// roundTripInputs are INI texts that must render back byte for byte.
var roundTripInputs = map[string]string{
	"an empty file":                   "",
	"a single newline":                "\n",
	"LF endings":                      "a=1\nb=2\n",
	"CRLF endings":                    "a=1\r\nb=2\r\n",
	"mixed endings":                   "a=1\r\nb=2\nc=3\r\n",
	"no final newline":                "a=1\nb=2",
	"no final newline after CRLF":     "a=1\r\nb=2",
	"a lone CR at the end":            "a=1\r",
	"CRs inside a line":               "a=1\r2\r\n",
	"blank lines":                     "\n\na=1\n\n\nb=2\n\n",
	"lines of spaces and tabs":        "  \n\t\na=1\n \t \n",
	"comments with ; and #":           "; a comment\n# another\na=1 ; not a comment\n  ;indented\n",
	"sections":                        "top=1\n[main]\na=1\n[ other ]\nb=2\n",
	"spaces around =":                 "a = 1\nb  =2\nc=  3\n  d\t=\t4  \n",
	"duplicate keys":                  "a=1\nA=2\na=3\n",
	"UTF-8 text":                      "name=Zoë Müller\n[café]\nnote=日本語\n",
	"lines without =":                 "just text\n[unclosed\n=novalue\n",
	"empty values":                    "a=\nb = \n",
	"a value with =":                  "url=http://x/?a=b\n",
	"a Maestro hub.ini":               "RegistryHubHost=hub.example.com\r\nRegistryHubPort=8080\r\n; keep\r\nAccountRegistry=accountreg\r\n",
	"only comments, no final newline": "; x",
}

func TestParseBytesRoundTripsByteExactly(t *testing.T) {
	for name, in := range roundTripInputs {
		t.Run(name, func(t *testing.T) {
			if got := string(ini.Parse([]byte(in)).Bytes()); got != in {
				t.Errorf("Parse(%q).Bytes() = %q", in, got)
			}
		})
	}
}

func TestRoundTripOfTestdataFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.ini"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.ini files (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := ini.Parse(data).Bytes(); string(got) != string(data) {
				t.Errorf("round trip changed the file:\n%q\n%q", data, got)
			}
		})
	}
}

func TestGet(t *testing.T) {
	f := ini.Parse([]byte("; settings\nHost = one.example\nhost=two.example\nport=80\n[Proxy]\nhost = proxy.example\nEmpty=\n"))
	tests := []struct {
		name, section, key string
		want               string
		wantOK             bool
	}{
		{"the last of duplicate keys wins", "", "host", "two.example", true},
		{"keys compare without regard to case", "", "HOST", "two.example", true},
		{"spaces around the value are trimmed", "Proxy", "host", "proxy.example", true},
		{"sections compare without regard to case", "proxy", "HOST", "proxy.example", true},
		{"a key of another section is not found", "", "empty", "", false},
		{"an empty value is found", "proxy", "empty", "", true},
		{"an unknown section has no keys", "nope", "host", "", false},
		{"a comment is not a key", "", "; settings", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := f.Get(tt.section, tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Get(%q, %q) = %q, %v; want %q, %v", tt.section, tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	f := ini.Parse([]byte("a=1\nb=2\na=3\nHost=x\nhost = y\n[s]\nc=4\n"))
	if got, want := f.Keys(""), map[string]string{"a": "3", "b": "2", "host": "y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys(\"\") = %v, want %v", got, want)
	}
	if got, want := f.Keys("S"), map[string]string{"c": "4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys(\"S\") = %v, want %v", got, want)
	}
}

func TestSetExistingKeyChangesOnlyItsLine(t *testing.T) {
	tests := []struct {
		name                string
		in                  string
		section, key, value string
		want                string
	}{
		{
			name: "a value is replaced in place",
			in:   "; hub\nRegistryHubHost=old.example\nRegistryHubPort=8080\n",
			key:  "RegistryHubHost", value: "new.example",
			want: "; hub\nRegistryHubHost=new.example\nRegistryHubPort=8080\n",
		},
		{
			name: "the key's spelling and the spacing around = are kept",
			in:   "a=1\n  RegistryHubHost  =   old\nb=2\n",
			key:  "registryhubhost", value: "new",
			want: "a=1\n  RegistryHubHost  =   new\nb=2\n",
		},
		{
			name: "a tab after = is kept",
			in:   "key =\told\n",
			key:  "key", value: "new",
			want: "key =\tnew\n",
		},
		{
			name: "CRLF endings stay",
			in:   "a=1\r\nkey=old\r\nb=2\r\n",
			key:  "key", value: "new",
			want: "a=1\r\nkey=new\r\nb=2\r\n",
		},
		{
			name: "a missing final newline stays missing",
			in:   "a=1\nkey=old",
			key:  "key", value: "new",
			want: "a=1\nkey=new",
		},
		{
			name: "every duplicate is set so no stale copy wins",
			in:   "key=1\nother=x\nKEY=2\n",
			key:  "Key", value: "3",
			want: "key=3\nother=x\nKEY=3\n",
		},
		{
			name:    "only the key of the named section changes",
			in:      "key=top\n[s]\nkey=in s\n[t]\nkey=in t\n",
			section: "S", key: "key", value: "new",
			want: "key=top\n[s]\nkey=new\n[t]\nkey=in t\n",
		},
		{
			name: "an empty value is allowed",
			in:   "key = old\n",
			key:  "key", value: "",
			want: "key = \n",
		},
		{
			name: "setting the same value leaves the file as it was",
			in:   "key =  same\n",
			key:  "key", value: "same",
			want: "key =  same\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ini.Parse([]byte(tt.in))
			if err := f.Set(tt.section, tt.key, tt.value); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if got := string(f.Bytes()); got != tt.want {
				t.Errorf("after Set:\n got %q\nwant %q", got, tt.want)
			}
			if got, _ := f.Get(tt.section, tt.key); got != tt.value {
				t.Errorf("Get after Set = %q, want %q", got, tt.value)
			}
		})
	}
}

func TestSetNewKey(t *testing.T) {
	tests := []struct {
		name                string
		in                  string
		section, key, value string
		want                string
	}{
		{
			name: "goes after the last key of a file without sections",
			in:   "a=1\nb=2\n; trailing comment\n",
			key:  "c", value: "3",
			want: "a=1\nb=2\nc=3\n; trailing comment\n",
		},
		{
			name: "goes into an empty file",
			in:   "",
			key:  "c", value: "3",
			want: "c=3\n",
		},
		{
			name: "goes at the end of a file of comments",
			in:   "; only comments\n",
			key:  "c", value: "3",
			want: "; only comments\nc=3\n",
		},
		{
			name: "ends a file that had no final newline with one",
			in:   "a=1",
			key:  "c", value: "3",
			want: "a=1\nc=3\n",
		},
		{
			name: "uses CRLF in a CRLF file",
			in:   "a=1\r\n; x\r\n",
			key:  "c", value: "3",
			want: "a=1\r\nc=3\r\n; x\r\n",
		},
		{
			name:    "goes after the last key of its section",
			in:      "[a]\nx=1\ny=2\n\n[b]\nz=3\n",
			section: "a", key: "new", value: "v",
			want: "[a]\nx=1\ny=2\nnew=v\n\n[b]\nz=3\n",
		},
		{
			name:    "goes right after the header of a section without keys",
			in:      "[a]\n; empty\n[b]\nz=3\n",
			section: "A", key: "new", value: "v",
			want: "[a]\nnew=v\n; empty\n[b]\nz=3\n",
		},
		{
			name:    "creates its section at the end when it is missing",
			in:      "[a]\nx=1\n",
			section: "b", key: "new", value: "v",
			want: "[a]\nx=1\n[b]\nnew=v\n",
		},
		{
			name:    "creates its section after a last line without newline",
			in:      "[a]\nx=1",
			section: "b", key: "new", value: "v",
			want: "[a]\nx=1\n[b]\nnew=v\n",
		},
		{
			name: "goes before the first section when it belongs before any section",
			in:   "; global\n[a]\nx=1\n",
			key:  "top", value: "v",
			want: "; global\ntop=v\n[a]\nx=1\n",
		},
		{
			name: "joins the keys before the first section",
			in:   "g=1\n[a]\nx=1\n",
			key:  "top", value: "v",
			want: "g=1\ntop=v\n[a]\nx=1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ini.Parse([]byte(tt.in))
			if err := f.Set(tt.section, tt.key, tt.value); err != nil {
				t.Fatalf("Set: %v", err)
			}
			out := f.Bytes()
			if string(out) != tt.want {
				t.Errorf("after Set:\n got %q\nwant %q", out, tt.want)
			}
			if got, ok := ini.Parse(out).Get(tt.section, tt.key); !ok || got != tt.value {
				t.Errorf("reading the result back: Get(%q, %q) = %q, %v; want %q", tt.section, tt.key, got, ok, tt.value)
			}
		})
	}
}

func TestSetRefusesWhatWouldBreakTheFile(t *testing.T) {
	tests := []struct {
		name, section, key, value string
	}{
		{"an empty key", "", "", "v"},
		{"a key of spaces", "", "  ", "v"},
		{"a key with =", "", "a=b", "v"},
		{"a key with [", "", "[a", "v"},
		{"a key with ;", "", ";a", "v"},
		{"a key with #", "", "#a", "v"},
		{"a key with spaces around it", "", " a ", "v"},
		{"a key with a newline", "", "a\nb", "v"},
		{"a value with a newline", "", "a", "x\ny"},
		{"a value with a CR", "", "a", "x\ry"},
		{"a section with a newline", "s\nt", "a", "v"},
		{"a section with a CR", "s\r", "a", "v"},
		{"a section with ]", "s]", "a", "v"},
		{"a section with spaces around it", " s ", "a", "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "a=1\n[s]\nb=2\n"
			f := ini.Parse([]byte(in))
			if err := f.Set(tt.section, tt.key, tt.value); err == nil {
				t.Errorf("Set(%q, %q, %q) = nil, want an error", tt.section, tt.key, tt.value)
			}
			if got := string(f.Bytes()); got != in {
				t.Errorf("a refused Set changed the file to %q", got)
			}
		})
	}
}

func TestUnset(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		section, key string
		want         string
		wantFound    bool
	}{
		{"removes every duplicate", "key=1\na=x\nKEY=2\nb=y\nKey = 3\n", "", "key", "a=x\nb=y\n", true},
		{"keeps CRLF endings of the other lines", "a=1\r\nkey=2\r\nb=3\r\n", "", "key", "a=1\r\nb=3\r\n", true},
		{"removes only from the named section", "key=1\n[s]\nkey=2\n", "s", "key", "key=1\n[s]\n", true},
		{"reports a key that is not there", "a=1\n", "", "key", "a=1\n", false},
		{"keeps the line before a removed last line whole", "a=1\nkey=2", "", "key", "a=1\n", true},
		{"can empty a file", "key=1\n", "", "key", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ini.Parse([]byte(tt.in))
			if found := f.Unset(tt.section, tt.key); found != tt.wantFound {
				t.Errorf("Unset = %v, want %v", found, tt.wantFound)
			}
			if got := string(f.Bytes()); got != tt.want {
				t.Errorf("after Unset:\n got %q\nwant %q", got, tt.want)
			}
			if _, ok := f.Get(tt.section, tt.key); ok {
				t.Error("Get still finds the key")
			}
		})
	}
}

func TestDiffReportsExactlyTheChangedLines(t *testing.T) {
	old := "; hub\nRegistryHubHost=old.example\nRegistryHubPort=8080\nStale=1\n"
	tests := []struct {
		name string
		edit func(f *ini.File)
		want []ini.Change
	}{
		{
			name: "nothing changed",
			edit: func(f *ini.File) {},
			want: nil,
		},
		{
			name: "a value changed in place",
			edit: func(f *ini.File) { _ = f.Set("", "RegistryHubHost", "new.example") },
			want: []ini.Change{{Line: 2, Old: "RegistryHubHost=old.example", New: "RegistryHubHost=new.example"}},
		},
		{
			name: "a key added",
			edit: func(f *ini.File) { _ = f.Set("", "RegistryHubExternalHost", "proxy.example") },
			want: []ini.Change{{Line: 4, New: "RegistryHubExternalHost=proxy.example"}},
		},
		{
			name: "a key removed",
			edit: func(f *ini.File) { f.Unset("", "stale") },
			want: []ini.Change{{Line: 4, Old: "Stale=1"}},
		},
		{
			name: "a change and a removal",
			edit: func(f *ini.File) {
				_ = f.Set("", "RegistryHubPort", "9090")
				f.Unset("", "stale")
			},
			want: []ini.Change{
				{Line: 3, Old: "RegistryHubPort=8080", New: "RegistryHubPort=9090"},
				{Line: 4, Old: "Stale=1"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ini.Parse([]byte(old))
			tt.edit(f)
			got := ini.Diff([]byte(old), f.Bytes())
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDiffIgnoresLineEndings(t *testing.T) {
	if got := ini.Diff([]byte("a=1\r\nb=2\r\n"), []byte("a=1\nb=2")); len(got) != 0 {
		t.Errorf("Diff of the same lines with other endings = %+v, want none", got)
	}
	got := ini.Diff(nil, []byte("a=1\n"))
	if want := []ini.Change{{Line: 0, New: "a=1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Diff(empty, a=1) = %+v, want %+v", got, want)
	}
}

func TestEditsOnAMaestroFileChangeOnlyTheirLines(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "lui.ini"))
	if err != nil {
		t.Fatal(err)
	}
	f := ini.Parse(data)
	if err := f.Set("", "RegistryHubHost", "newhub.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("", "RegistryHubExternalPort", "8443"); err != nil {
		t.Fatal(err)
	}
	f.Unset("", "RegistryHubLegacy")
	out := f.Bytes()
	changes := ini.Diff(data, out)
	var got []string
	for _, c := range changes {
		got = append(got, c.Old+" -> "+c.New)
	}
	want := []string{
		"RegistryHubHost = hub.example.com -> RegistryHubHost = newhub.example.com",
		"RegistryHubLegacy=1 -> ",
		" -> RegistryHubExternalPort=8443",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Count(string(out), "\r\n") != strings.Count(string(out), "\n") {
		t.Errorf("a CRLF file got LF lines: %q", out)
	}
}
