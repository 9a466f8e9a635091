package lab_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe/lab"
)

// runErr runs cmd and returns the error of the session (nil, an exit error, or a lost
// connection).
func runErr(c *ssh.Client, cmd string) error {
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run(cmd)
}

func faultEntries(t *testing.T, l *lab.Lab) []lab.AuditEntry {
	t.Helper()
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var out []lab.AuditEntry
	for _, e := range entries {
		if e.Kind == "fault" {
			out = append(out, e)
		}
	}
	return out
}

func TestDisruptions(t *testing.T) {
	t.Parallel()
	l := serve(t, t.TempDir(), lab.Options{Faults: []string{
		"drop:a:^touch before$",
		"drop-after:a:^touch after$",
		"drop:b:incoming/second",
	}})
	root := l.HostRoot("a")

	// drop: the command never runs and the client loses the connection.
	c := dialHost(t, l, "a")
	if _, code := run(t, c, "echo unrelated"); code != 0 {
		t.Fatal("an unrelated command was disrupted")
	}
	err := runErr(c, "touch before")
	var ee *ssh.ExitError
	if err == nil || errors.As(err, &ee) {
		t.Fatalf("drop: the client should lose the connection, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "before")); !os.IsNotExist(err) {
		t.Errorf("drop: the command ran anyway (%v)", err)
	}

	// It strikes once: the same command on a new connection runs.
	c = dialHost(t, l, "a")
	if _, code := run(t, c, "touch before"); code != 0 {
		t.Fatal("the disruption struck twice")
	}

	// drop-after: the command runs to its end; the client never hears its status.
	err = runErr(c, "touch after")
	if err == nil || errors.As(err, &ee) {
		t.Fatalf("drop-after: the client should lose the connection, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "after")); err != nil {
		t.Errorf("drop-after: the command did not run: %v", err)
	}

	// A file change over SFTP: made, and the reply never comes.
	cb := dialHost(t, l, "b")
	fc, err := sftp.NewClient(cb)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	base := filepath.Join(l.HostRoot("b"), "incoming")
	if err := fc.Mkdir(base); err != nil {
		t.Fatal(err)
	}
	w, err := fc.Create(filepath.Join(base, "first"))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, err = fc.Create(filepath.Join(base, "second"))
	if err == nil {
		t.Fatal("the SFTP create of a matching path should lose its connection")
	}
	if _, serr := os.Stat(filepath.Join(base, "second")); serr != nil {
		t.Errorf("the matching change was not made: %v", serr)
	}

	got := faultEntries(t, l)
	var subjects []string
	for _, e := range got {
		subjects = append(subjects, e.Op+" "+e.Command)
	}
	want := "drop touch before|drop-after touch after|drop " + filepath.Join(base, "second")
	if strings.Join(subjects, "|") != want {
		t.Errorf("the audit log records the strikes as %q, want %q", subjects, want)
	}
	if a := l.Armed(); len(a) != 0 {
		t.Errorf("still armed: %v", a)
	}
}

func TestDisruptHang(t *testing.T) {
	t.Parallel()
	l := serve(t, t.TempDir(), lab.Options{})
	d, err := lab.ParseDisruption("hang:a:sleepy")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Disrupt(d); err != nil {
		t.Fatal(err)
	}
	defer l.Unhang("a")
	c := dialHost(t, l, "a")
	done := make(chan error, 1)
	go func() { done <- runErr(c, "echo sleepy; touch ran") }()
	select {
	case err := <-done:
		t.Fatalf("a hung host answered: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	// The command itself ran on; the host just stopped talking.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(l.HostRoot("a"), "ran")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command did not run on the hung host")
		}
	}
	l.Unhang("a")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after Unhang the command should end normally: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the command did not end after Unhang")
	}
}

func TestParseDisruption(t *testing.T) {
	for _, tc := range []struct{ spec, err string }{
		{"drop:a:x", ""},
		{"drop-after:a:maestroctl start", ""},
		{"hang:a:a:b:c", ""},
		{"drop:a", "write KIND:HOST:REGEX"},
		{"drop::x", "write KIND:HOST:REGEX"},
		{"explode:a:x", "unknown kind"},
		{"drop:a:(", "missing closing"},
		{"link:a:x", ""},
	} {
		_, err := lab.ParseDisruption(tc.spec)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseDisruption(%q) = %v, want %q", tc.spec, err, tc.err)
		}
	}
	if !lab.IsDisruption("drop:a:x") || lab.IsDisruption("startup-db-error") {
		t.Error("IsDisruption")
	}
	// An unknown host is refused when the lab is set up.
	_, err := lab.Setup(t.TempDir(), testScenario(), lab.Options{Faults: []string{"drop:nosuch:x"}})
	if err == nil || !strings.Contains(err.Error(), `no host "nosuch"`) {
		t.Errorf("Setup with a disruption on an unknown host: %v", err)
	}
}

// TestPlantLink: a link to the canary is planted at a matching name just before the
// SFTP request that creates it. A plain create (O_TRUNC) writes through it into the
// canary, and the audit log says where the write landed; an exclusive create and a
// mkdir fail on it; each strike is recorded once.
func TestPlantLink(t *testing.T) {
	t.Parallel()
	l := serve(t, t.TempDir(), lab.Options{Faults: []string{
		`link:a:naive$`, `link:a:careful$`, `link:a:folder$`,
	}})
	file, dir := l.Canary()
	if b, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(b), "canary") {
		t.Fatalf("canary: %q, %v", b, err)
	}
	fc, err := sftp.NewClient(dialHost(t, l, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	root := l.HostRoot("a")

	w, err := fc.Create(filepath.Join(root, "naive"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("through the link\n"))
	w.Close()
	if b, _ := os.ReadFile(file); string(b) != "through the link\n" {
		t.Errorf("a plain create did not write through the planted link: the canary holds %q", b)
	}
	if _, err := fc.OpenFile(filepath.Join(root, "careful"), os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
		t.Error("an exclusive create succeeded on a planted link")
	}
	if err := fc.Mkdir(filepath.Join(root, "folder")); err == nil {
		t.Error("mkdir succeeded on a planted link")
	}
	if to, err := os.Readlink(filepath.Join(root, "folder")); err != nil || to != dir {
		t.Errorf("a mkdir gets a link to the canary folder: %q, %v", to, err)
	}
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var strikes, through []string
	for _, e := range entries {
		if e.Kind == "fault" && e.Op == lab.PlantLink {
			strikes = append(strikes, filepath.Base(e.Path)+" -> "+filepath.Base(e.Target))
		}
		if e.Kind == "sftp" && e.Op == "open" && e.Target != "" {
			through = append(through, filepath.Base(e.Path)+" -> "+e.Target)
		}
	}
	if got := strings.Join(strikes, "|"); got != "naive -> canary|careful -> canary|folder -> canary.d" {
		t.Errorf("strikes recorded as %q", got)
	}
	if len(through) != 1 || through[0] != "naive -> "+file {
		t.Errorf("opens through a link recorded as %q", through)
	}
	if a := l.Armed(); len(a) != 0 {
		t.Errorf("still armed: %v", a)
	}
}
