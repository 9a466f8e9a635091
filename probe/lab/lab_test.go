package lab_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
)

const helloScript = "#!/bin/sh\necho \"hello from $LAB_HOST: $*\"\n"

// testScenario has two hosts: a serves HTTP as alpha.example:80, b holds TCP on
// beta.example:3306.
func testScenario() *lab.Scenario {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "web on a: %s", r.URL.Path)
	})
	return &lab.Scenario{
		Name:  "test",
		Title: "two hosts",
		Hosts: []lab.HostSpec{
			{
				Name: "a", Hostname: "alpha.example", InstallDir: "opt/app",
				Files: []lab.File{
					{Path: "bin/hello", Mode: 0o755, Content: helloScript},
					{Path: "opt/app/conf/app.ini", Age: 48 * time.Hour,
						Content: "db = {{ .Hosts.b.Hostname }}:3306\nweb = {{ .Hosts.a.Endpoints.web }}\n"},
				},
				Services: map[string]probe.Service{"app": {
					Start:  "app start",
					Stop:   "app stop",
					Status: "test -f var/run/app.pid && echo 'state: running' # quoted: yes",
				}},
				Vars:      map[string]string{"site": "east", "role": "hub: primary"},
				Groups:    []string{"hubs"},
				Endpoints: []lab.Endpoint{{Name: "web", Port: 80, Handler: web}},
			},
			{
				Name: "b", Hostname: "beta.example", InstallDir: "opt/app",
				Files:     []lab.File{{Path: "bin/hello", Mode: 0o755, Content: helloScript}},
				Endpoints: []lab.Endpoint{{Name: "db", Port: 3306}},
			},
		},
		Faults: []lab.Fault{{
			Name: "db-down", Description: "the database refuses logins",
			Apply: func(l *lab.Lab) error { return l.SetFlag("b", "db-down", "refuse\n") },
		}},
		Runs: []lab.RunFile{{Runbook: "test/move-app", Content: "runbook: test/move-app\nsource_port: {{ .Hosts.a.Port }}\n"}},
	}
}

// serve sets up and serves the test scenario in dir until the test ends.
func serve(t *testing.T, dir string, opts lab.Options) *lab.Lab {
	t.Helper()
	return serveScenario(t, dir, testScenario(), opts)
}

// serveScenario sets up and serves sc in dir until the test ends.
func serveScenario(t *testing.T, dir string, sc *lab.Scenario, opts lab.Options) *lab.Lab {
	t.Helper()
	return labtest.ServeIn(t, dir, sc, opts)
}

func clientConfig(t *testing.T, l *lab.Lab) *ssh.ClientConfig {
	t.Helper()
	pem, err := os.ReadFile(l.ClientKey())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(l.KnownHosts())
	if err != nil {
		t.Fatal(err)
	}
	return &ssh.ClientConfig{
		User:              "lab",
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   cb,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           5 * time.Second,
	}
}

func dialHost(t *testing.T, l *lab.Lab, name string) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port(name))), clientConfig(t, l))
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// run runs cmd and returns its standard output and exit code.
func run(t *testing.T, c *ssh.Client, cmd string) (string, int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errOut bytes.Buffer
	s.Stdout, s.Stderr = &out, &errOut
	err = s.Run(cmd)
	if errOut.Len() > 0 {
		t.Logf("%s: stderr: %s", cmd, errOut.String())
	}
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitStatus()
	}
	t.Fatalf("run %q: %v", cmd, err)
	return "", 0
}

func TestSetupLayout(t *testing.T) {
	dir := t.TempDir()
	l, err := lab.Setup(dir, testScenario(), lab.Options{Faults: []string{"db-down"}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatalf("inventory.Load: %v", err)
	}
	if got := strings.Join(inv.Names(), ","); got != "a,b" {
		t.Fatalf("hosts = %s, want a,b", got)
	}
	a := inv.Host("a")
	if a.Address != "127.0.0.1" || a.Port != l.Port("a") || a.User != "lab" {
		t.Errorf("a = %s@%s:%d, want lab@127.0.0.1:%d", a.User, a.Address, a.Port, l.Port("a"))
	}
	if want := filepath.Join(l.HostRoot("a"), "opt", "app"); a.InstallDir != want {
		t.Errorf("install_dir = %s, want %s", a.InstallDir, want)
	}
	if len(a.KnownHosts) != 1 || a.KnownHosts[0] != l.KnownHosts() || len(a.IdentityFiles) != 1 || a.IdentityFiles[0] != l.ClientKey() {
		t.Errorf("known_hosts %v, identity %v", a.KnownHosts, a.IdentityFiles)
	}
	if a.Services["app"] != testScenario().Hosts[0].Services["app"] || a.Vars["role"] != "hub: primary" || len(a.Groups) != 1 {
		t.Errorf("services %v, vars %v, groups %v", a.Services, a.Vars, a.Groups)
	}
	if b := inv.Host("b"); b.Port != l.Port("b") || b.Port == a.Port {
		t.Errorf("b port = %d, want %d", b.Port, l.Port("b"))
	}

	run, err := os.ReadFile(filepath.Join(dir, "runs", "test-move-app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("source_port: %d\n", l.Port("a")); !strings.Contains(string(run), want) {
		t.Errorf("run file = %q, want it to contain %q", run, want)
	}
	ini := filepath.Join(l.HostRoot("a"), "opt", "app", "conf", "app.ini")
	data, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	if want := "db = beta.example:3306\nweb = " + l.Endpoint("a", "web") + "\n"; string(data) != want {
		t.Errorf("app.ini = %q, want %q", data, want)
	}
	if fi, _ := os.Stat(ini); time.Since(fi.ModTime()) < 47*time.Hour {
		t.Errorf("app.ini mtime %v, want two days ago", fi.ModTime())
	}
	if fi, _ := os.Stat(filepath.Join(l.HostRoot("a"), "bin", "hello")); fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/hello mode %v", fi.Mode())
	}
	if fi, _ := os.Stat(l.ClientKey()); fi.Mode().Perm() != 0o600 {
		t.Errorf("client key mode %v", fi.Mode())
	}
	if flag, err := os.ReadFile(filepath.Join(l.HostRoot("b"), "var", "faults", "db-down")); string(flag) != "refuse\n" {
		t.Errorf("fault flag = %q, %v", flag, err)
	}
	kh, _ := os.ReadFile(l.KnownHosts())
	for _, name := range []string{"a", "b"} {
		if want := fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", l.Port(name)); !strings.Contains(string(kh), want) {
			t.Errorf("known_hosts lacks %q:\n%s", want, kh)
		}
	}
	if strings.Contains(string(kh), "ecdsa") {
		t.Errorf("known_hosts lists an ecdsa key:\n%s", kh)
	}
	for _, p := range []string{"lab.json", "hostkeys/a_ed25519", "hostkeys/a_ecdsa", "id_ed25519.pub", "audit.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
}

func TestSetupErrors(t *testing.T) {
	sc := testScenario()
	sc.Hosts[1].Files = append(sc.Hosts[1].Files, lab.File{Path: "etc/x.conf", Content: "{{ .Hosts.zzz.Port }}"})
	_, err := lab.Setup(t.TempDir(), sc, lab.Options{})
	if err == nil || !strings.Contains(err.Error(), "host b, file etc/x.conf") {
		t.Errorf("template error = %v, want it to name host b and etc/x.conf", err)
	}
	_, err = lab.Setup(t.TempDir(), testScenario(), lab.Options{Faults: []string{"disk-full"}})
	if err == nil || !strings.Contains(err.Error(), "disk-full") || !strings.Contains(err.Error(), "db-down") {
		t.Errorf("unknown fault error = %v, want it to list db-down", err)
	}

	dir := t.TempDir()
	precious := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(precious, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, reset := range []bool{false, true} {
		if _, err := lab.Setup(dir, testScenario(), lab.Options{Reset: reset}); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Errorf("Setup in a non-lab folder (reset %v) = %v, want a refusal", reset, err)
		}
	}
	if _, err := os.Stat(precious); err != nil {
		t.Errorf("operator's file is gone: %v", err)
	}

	// A running lab's folder is not set up again underneath it.
	dir = t.TempDir()
	l, err := lab.Setup(dir, testScenario(), lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Setup(dir, testScenario(), lab.Options{Reset: true}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Setup of a running lab = %v, want a refusal", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = lab.Setup(dir, testScenario(), lab.Options{})
	if err != nil {
		t.Fatalf("Setup after Close: %v", err)
	}
	l.Close()
}

func TestExec(t *testing.T) {
	t.Setenv("CUTOVER_LAB_LEAK", "from-the-test")
	l := serve(t, t.TempDir(), lab.Options{})
	c := dialHost(t, l, "a")

	if out, code := run(t, c, "hello x"); out != "hello from a: x\n" || code != 0 {
		t.Errorf("hello x = %q, %d", out, code)
	}
	out, _ := run(t, c, "env; pwd")
	if strings.Contains(out, "CUTOVER_LAB_LEAK") {
		t.Errorf("environment leaks the lab process's variables:\n%s", out)
	}
	root := l.HostRoot("a")
	for _, want := range []string{"LAB_HOST=a\n", "HOME=" + root + "\n", "PATH=" + root + "/bin:", "USER=lab\n", "LAB_DIR=" + l.Dir() + "\n", "\n" + root + "\n"} {
		if !strings.Contains("\n"+out, want) {
			t.Errorf("env; pwd lacks %q:\n%s", want, out)
		}
	}
	if _, code := run(t, c, "exit 3"); code != 3 {
		t.Errorf("exit 3 gave %d", code)
	}

	// stdin reaches the command.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s.Stdin = strings.NewReader("piped\n")
	got, err := s.Output("tr a-z A-Z")
	if err != nil || string(got) != "PIPED\n" {
		t.Errorf("stdin: %q, %v", got, err)
	}

	// A signal request reaches the command.
	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stdout, _ := s.StdoutPipe()
	if err := s.Start("echo started; exec sleep 30"); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 8)
	if _, err := io.ReadFull(stdout, line); err != nil {
		t.Fatal(err)
	}
	if err := s.Signal(ssh.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Errorf("signalled command ended with %v, want signal TERM", err)
	}

	// "shell" reads commands from stdin.
	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var shellOut bytes.Buffer
	s.Stdin, s.Stdout = strings.NewReader("hello shell\nexit 4\n"), &shellOut
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 4 || shellOut.String() != "hello from a: shell\n" {
		t.Errorf("shell: %q, %v", shellOut.String(), err)
	}

	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var sawExit3 bool
	for _, e := range entries {
		if e.Kind == "exec" && e.Host == "a" && e.Command == "exit 3" && e.Exit != nil && *e.Exit == 3 {
			sawExit3 = true
		}
	}
	if !sawExit3 {
		t.Errorf("audit lacks exit 3: %+v", entries)
	}
}

func TestAuthAndHostKeys(t *testing.T) {
	l := serve(t, t.TempDir(), lab.Options{})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port("a")))

	// The ecdsa key is offered too, to clients that ask for it.
	cfg := clientConfig(t, l)
	var offered string
	cfg.HostKeyAlgorithms = []string{ssh.KeyAlgoECDSA256}
	cfg.HostKeyCallback = func(_ string, _ net.Addr, key ssh.PublicKey) error {
		offered = key.Type()
		return nil
	}
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial asking for ecdsa: %v", err)
	}
	c.Close()
	if offered != ssh.KeyAlgoECDSA256 {
		t.Errorf("host key offered = %s", offered)
	}

	// Only the lab's client key gets in.
	_, stranger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(stranger)
	if err != nil {
		t.Fatal(err)
	}
	cfg = clientConfig(t, l)
	cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	if c, err := ssh.Dial("tcp", addr, cfg); err == nil {
		c.Close()
		t.Error("a key other than the lab's was accepted")
	}
}

func TestOpenSSHClient(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh client on this machine")
	}
	l := serve(t, t.TempDir(), lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sshBin, "-F", "/dev/null", "-i", l.ClientKey(),
		"-o", "UserKnownHostsFile="+l.KnownHosts(), "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-p", strconv.Itoa(l.Port("b")), "lab@127.0.0.1", "hello", "from-openssh")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "hello from b: from-openssh\n" {
		t.Errorf("ssh: %v\n%s", err, out)
	}
}

// TestInstallTree: the fingerprint changes with a file's content, leaves logs out and
// applies rename.
func TestInstallTree(t *testing.T) {
	l := serve(t, t.TempDir(), lab.Options{})
	name := testScenario().Hosts[0].Name
	dir := filepath.Join(l.HostRoot(name), filepath.FromSlash(testScenario().Hosts[0].InstallDir))
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "logs", "today.log"), []byte("started"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.ini.cutover-123"), []byte("x=1\n"), 0o644)
	rename := func(rel string) string { return strings.ReplaceAll(rel, "-123", "-RUN") }
	before, err := l.InstallTree([]string{name}, rename)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, name+":a.ini.cutover-RUN ") || strings.Contains(before, "logs") {
		t.Errorf("tree:\n%s", before)
	}
	os.WriteFile(filepath.Join(dir, "logs", "today.log"), []byte("started again"), 0o644)
	if again, _ := l.InstallTree([]string{name}, rename); again != before {
		t.Errorf("a log changed the tree:\n%s\n---\n%s", before, again)
	}
	os.WriteFile(filepath.Join(dir, "a.ini.cutover-123"), []byte("x=2\n"), 0o644)
	if after, _ := l.InstallTree([]string{name}, rename); after == before {
		t.Error("a changed file left the tree the same")
	}
	if _, err := l.InstallTree([]string{"nosuch"}, nil); err == nil {
		t.Error("an unknown host gave no error")
	}
}
