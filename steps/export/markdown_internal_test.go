package export

import "testing"

func TestMarkdownEscapes(t *testing.T) {
	for _, c := range []struct{ f, in, want string }{
		{"text", "hub1.example.com", "hub1.example.com"},
		{"text", "<img src=x onerror=alert(1)>", `\<img src=x onerror=alert(1)>`},
		{"text", "[x](javascript:alert(1))", `\[x\](javascript:alert(1))`},
		{"text", "done\n- [x] step done", `done\n- \[x\] step done`},
		{"text", "*em* _em_ ~~del~~ `code` $x$ &amp;", `\*em\* \_em\_ \~\~del\~\~ \` + "`code\\`" + ` \$x\$ \&amp;`},
		{"text", "hub_host lui_recipient_data", "hub_host lui_recipient_data"},
		{"text", `C:\\nas \berror\b \*`, `C:\\\nas \berror\b \\\*`},
		{"text", "ends with a backslash\\", `ends with a backslash\\`},
		{"text", "pass [secret] on", "pass [secret] on"},
		{"text", "\x1b]0;pwned\x07", `\x1b\]0;pwned\a`},
		{"cell", "a | b", `a \| b`},
		{"code", "echo hi", "`echo hi`"},
		{"code", "a ` b", "``a ` b``"},
		{"code", "`x`", "`` `x` ``"},
		{"code", "a\nb", "`a\\nb`"},
		{"label", "on h1, `cat <x>` exits 0", "on h1, `cat <x>` exits 0"},
		{"label", "on h1, `a` and <b> `c", "on h1, `a` and \\<b> \\`c"},
	} {
		var got string
		switch c.f {
		case "text":
			got = text(c.in)
		case "cell":
			got = cell(c.in)
		case "code":
			got = code(c.in)
		case "label":
			got = label(c.in)
		}
		if got != c.want {
			t.Errorf("%s(%q) = %q, want %q", c.f, c.in, got, c.want)
		}
	}
	if f := fenceFor([]string{"plain", "a ```` b"}); f != "`````" {
		t.Errorf("fence %q", f)
	}
	if f := fenceFor([]string{"plain"}); f != "```" {
		t.Errorf("fence %q", f)
	}
}
