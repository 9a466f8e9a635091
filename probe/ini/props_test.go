package ini_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/ini"
)

// propertiesInputs are Java properties texts: each must render back byte for byte, and
// Java's own reader must find in it what ini finds (TestPropertiesReadAsJavaReadsThem).
var propertiesInputs = map[string]string{
	"a Windows path, escaped":          "RestoreBackup=C:\\\\temp\\\\restore\n",
	"a Windows path, not escaped":      "RestoreBackup=C:\\temp\\restore\n",
	"colon and space separators":       "a:1\nb 2\nc = 3\nd\t:\t4\ne =: 5\n",
	"comments with # and !":            "# hash\n! bang\n  # indented\na=1 # not a comment\n",
	"a comment ending in a backslash":  "# comment \\\na=1\n",
	"continuation lines":               "list=one, \\\n      two, \\\n      three\nnext=x\n",
	"a continuation ended by a blank":  "a=1\\\n\nb=2\n",
	"a backslash at the end of a file": "a=1\\",
	"two backslashes do not continue":  "a=1\\\\\nb=2\n",
	"unicode escapes":                  "name=Zo\\u00EB\nsmile=\\uD83D\\uDE00\n",
	"raw UTF-8 read as bytes":          "name=Zoë\nZoë=1\n",
	"escaped separators in a key":      "my\\ key=1\nkey\\:with\\=seps=2\n",
	"a key alone":                      "flag\n",
	"CRLF endings":                     "a=1\r\nb=2\\\r\n  3\r\n",
	"keys keep their case":             "Key=1\nkey=2\nKEY=3\n",
	"control escapes":                  "tabs=a\\tb\\nc\n",
	"duplicate keys":                   "a=1\na=2\n",
	"trailing spaces are kept":         "a=1  \n",
	"a maestro lui.ini":                "# LISTSERV Maestro User Interface settings\r\nRegistryHubHost=hub.maestro.lab\r\nTrackerHost=trk.maestro.lab\r\nHTTPPort=80\r\n",
}

func TestPropertiesRoundTripByteExactly(t *testing.T) {
	for name, in := range propertiesInputs {
		t.Run(name, func(t *testing.T) {
			if got := string(ini.ParseAs([]byte(in), ini.Properties).Bytes()); got != in {
				t.Errorf("ParseAs(%q).Bytes() = %q", in, got)
			}
		})
	}
}

func TestPropertiesGet(t *testing.T) {
	tests := []struct {
		in, key, want string
		ok            bool
	}{
		{"RestoreBackup=C:\\\\temp\\\\restore\n", "RestoreBackup", `C:\temp\restore`, true},
		{"RestoreBackup=C:\\temp\\restore\n", "RestoreBackup", "C:\temp\restore", true}, // \t and \r: a tab and a carriage return
		{"a:1\n", "a", "1", true},
		{"b 2\n", "b", "2", true},
		{"e =: 5\n", "e", ": 5", true},
		{"list=one, \\\n      two, \\\n      three\n", "list", "one, two, three", true},
		{"name=Zo\\u00EB\n", "name", "Zoë", true},
		{"smile=\\uD83D\\uDE00\n", "smile", "😀", true},
		{"my\\ key=1\n", "my key", "1", true},
		{"flag\n", "flag", "", true},
		{"Key=1\n", "key", "", false},
		{"# a=1\n", "a", "", false},
		{"! a=1\n", "a", "", false},
		{"a=1  \n", "a", "1  ", true},
		{"a=1\\", "a", "1", true},
		{"a=\\q\\u12\n", "a", "qu12", true},
		{"name=Zoë\n", "name", "ZoÃ«", true}, // a byte stream is ISO-8859-1 to Java
	}
	for _, tt := range tests {
		got, ok := ini.ParseAs([]byte(tt.in), ini.Properties).Get("", tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) in %q = %q, %v; want %q, %v", tt.key, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPropertiesSet(t *testing.T) {
	tests := []struct {
		name, in, key, value, want string
	}{
		{"a Windows path is written escaped", "RestoreBackup=old\n", "RestoreBackup", `C:\temp\restore`, "RestoreBackup=C:\\\\temp\\\\restore\n"},
		{"a new key is written escaped", "a=1\n", "RestoreBackup", `C:\temp`, "a=1\nRestoreBackup=C:\\\\temp\n"},
		{"the separator and spacing stay", "a : old\n", "a", "new", "a : new\n"},
		{"a space separator stays", "a   old\n", "a", "new", "a   new\n"},
		{"a continued definition becomes one line", "x=1\nlist=one, \\\n  two\ny=2\n", "list", "three", "x=1\nlist=three\ny=2\n"},
		{"a continued last definition keeps the file's missing final newline", "a=1\\\n  2", "a", "3", "a=3"},
		{"a key alone gets a separator", "flag\n", "flag", "on", "flag=on\n"},
		{"non-ASCII is written as \\u escapes", "a=1\n", "name", "Zoë 😀", "a=1\nname=Zo\\u00EB \\uD83D\\uDE00\n"},
		{"a new key goes after a continued definition", "a=1\\\n 2\n# end\n", "b", "3", "a=1\\\n 2\nb=3\n# end\n"},
		{"keys compare exactly", "key=1\n", "Key", "2", "key=1\nKey=2\n"},
		{"a new key never follows a backslash that ends the file", "x=0\na=1\\", "b", "2", "x=0\nb=2\na=1\\"},
		{"CRLF stays", "a=1\r\nb=x\\\r\n y\r\n", "b", "z", "a=1\r\nb=z\r\n"},
		{"a leading = after a space separator is escaped", "a old\n", "a", "=x", "a \\=x\n"},
		{"a leading : is escaped in a new key's value", "", "b", ":y", "b=\\:y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ini.ParseAs([]byte(tt.in), ini.Properties)
			if err := f.Set("", tt.key, tt.value); err != nil {
				t.Fatal(err)
			}
			out := f.Bytes()
			if string(out) != tt.want {
				t.Errorf("after Set:\n got %q\nwant %q", out, tt.want)
			}
			if got, ok := ini.ParseAs(out, ini.Properties).Get("", tt.key); !ok || got != tt.value {
				t.Errorf("read back: %q, %v; want %q", got, ok, tt.value)
			}
		})
	}
	if err := ini.ParseAs(nil, ini.Properties).Set("s", "a", "1"); err == nil {
		t.Error("a properties file accepted a section")
	}
}

func TestPropertiesUnsetRemovesContinuations(t *testing.T) {
	f := ini.ParseAs([]byte("a=1\nlist=one, \\\n  two\nb=2\nlist=x"), ini.Properties)
	if !f.Unset("", "list") {
		t.Fatal("Unset found nothing")
	}
	if got := string(f.Bytes()); got != "a=1\nb=2\n" {
		t.Errorf("after Unset: %q", got)
	}
}

func TestINIDialectIsUnchanged(t *testing.T) {
	// The same text means other things to the two dialects: INI files keep their rules.
	in := "[s]\nPath=C:\\temp\nk: v\n"
	f := ini.Parse([]byte(in))
	if v, _ := f.Get("s", "path"); v != `C:\temp` {
		t.Errorf("INI Get = %q, want the backslash as written", v)
	}
	if _, ok := f.Get("s", "k"); ok {
		t.Error("INI took ':' for a separator")
	}
	if err := f.Set("s", "Path", `D:\x`); err != nil || !strings.Contains(string(f.Bytes()), "Path=D:\\x\n") {
		t.Errorf("INI Set escaped the value: %q, %v", f.Bytes(), err)
	}
}

// javaProperties loads each file with java.util.Properties (as Maestro does, from a
// byte stream) and returns its keys and values. Java prints every character outside
// printable ASCII as \uXXXX, so nothing depends on the console's encoding.
func javaProperties(t *testing.T, files []string) []map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Java virtual machine: make test runs it, -short does not")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed: the comparison with java.util.Properties needs a Java runtime (Debian: default-jre-headless)")
	}
	src := filepath.Join(t.TempDir(), "Load.java")
	prog := `import java.io.*; import java.util.*;
public class Load {
  static String q(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c < 0x20 || c > 0x7e || c == '\\' || c == '|') b.append(String.format("\\u%04X", (int) c)); else b.append(c);
    }
    return b.toString();
  }
  public static void main(String[] args) throws Exception {
    for (String f : args) {
      Properties p = new Properties();
      try (InputStream in = new FileInputStream(f)) { p.load(in); }
      List<String> keys = new ArrayList<>(p.stringPropertyNames());
      Collections.sort(keys);
      for (String k : keys) System.out.println(q(k) + "|" + q(p.getProperty(k)));
      System.out.println("--end--");
    }
  }
}
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(java, append([]string{src}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	var res []map[string]string
	cur := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if l == "--end--" {
			res = append(res, cur)
			cur = map[string]string{}
			continue
		}
		k, v, _ := strings.Cut(l, "|")
		cur[unquoteJava(t, k)] = unquoteJava(t, v)
	}
	if len(res) != len(files) {
		t.Fatalf("java read %d files of %d:\n%s", len(res), len(files), out)
	}
	return res
}

// unquoteJava undoes the \uXXXX quoting of the Java program above.
func unquoteJava(t *testing.T, s string) string {
	t.Helper()
	got, ok := ini.ParseAs([]byte("k="+s), ini.Properties).Get("", "k")
	if !ok {
		t.Fatalf("cannot read %q back", s)
	}
	return got
}

// TestPropertiesAgainstJava compares both ways with java.util.Properties (one Java run,
// which takes seconds): for every sample, ini finds the keys and values Java finds; and
// values cutover writes into a Maestro file come back from Java exactly as given,
// whatever characters they hold.
func TestPropertiesAgainstJava(t *testing.T) {
	dir := t.TempDir()
	names := slices.Sorted(maps.Keys(propertiesInputs))
	var files []string
	for i, name := range names {
		p := filepath.Join(dir, fmt.Sprintf("sample%02d.properties", i))
		if err := os.WriteFile(p, []byte(propertiesInputs[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}

	values := map[string]string{
		"RestoreBackup":   `C:\temp\restore`,
		"UNCShare":        `\\filer\maestro\backup`,
		"RelativeRestore": `..\restore`,
		"Colons":          "a:b=c",
		"Hash":            "#not a comment",
		"Bang":            "!not a comment",
		"Unicode":         "Zoë Müller 日本 😀",
		"Tabbed":          "a\tb",
		"TrailingSlash":   `C:\temp\`,
		"Spaced":          "=after a space separator",
		"LeadingColon":    ":y",
	}
	start := "# lui.ini\r\nRestoreBackup=old\r\nSpaced old\r\nContinued=one, \\\r\n  two\r\n"
	f := ini.ParseAs([]byte(start), ini.Properties)
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if err := f.Set("", k, values[k]); err != nil {
			t.Fatal(err)
		}
	}
	f.Unset("", "Continued")
	written := filepath.Join(dir, "lui.ini")
	if err := os.WriteFile(written, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	got := javaProperties(t, append(files, written))
	for i, name := range names {
		ours := ini.ParseAs([]byte(propertiesInputs[name]), ini.Properties).Keys("")
		if !reflect.DeepEqual(ours, got[i]) {
			t.Errorf("read %s: ini finds %q, Java finds %q", name, ours, got[i])
		}
	}
	if back := got[len(names)]; !reflect.DeepEqual(back, values) {
		t.Errorf("Java reads what cutover wrote as\n%q\nwant\n%q\nfile:\n%s", back, values, f.Bytes())
	}
}
