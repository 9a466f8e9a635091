package steps

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe"
)

// Direct transfer: when the source host can reach the target's SSH server, the data
// goes from host to host and never through the operator's machine, whose link is often
// the slow one. No lasting credential is left anywhere and the operator's agent is
// never forwarded:
//
//   - cutover makes an ed25519 key pair for this one copy;
//   - its public half goes into the target login's ~/.ssh/authorized_keys, restricted:
//     from="the source's address",restrict,command="the target's sftp-server", so the
//     key can do nothing but SFTP, and only from the source;
//   - its private half goes to a folder of the source login's home that cutover makes
//     (HOME/.cutover-direct-RUN-RANDOM, mode 0700), beside a known_hosts file holding the
//     target's host key as cutover verified it against the operator's known_hosts (the
//     source's client accepts that key and no other: StrictHostKeyChecking yes);
//   - the source runs OpenSSH's sftp client with that key only (IdentitiesOnly yes,
//     IdentityAgent none, ForwardAgent no, BatchMode yes); every file goes to a
//     random temporary name cutover created exclusively beforehand, and is renamed into
//     place by cutover after an Lstat, like every other file it writes;
//   - both halves are removed when the copy ends, and removed again by the next attempt
//     of the run (a resume) if cutover was stopped before it could.
//
// Verification stays cutover's own: every file is hashed on both hosts. When a host
// cannot take part (no sftp client, no sftp-server, sudo, PowerShell, no route), the copy
// is relayed as before, and the record says why. A runbook forbids direct transfer with
// direct: false on the copy, an inventory with the host variable direct_transfer: no.

// directMinBytes is the least a copy must hold to go direct: below it, relaying costs
// about what setting up and removing a one-copy key does (some ten commands and two SSH
// logins), even over a slow link.
const directMinBytes = 8 << 20

// directTag starts the comment of every one-copy key, so the lines can be found again.
const directTag = "cutover-one-copy"

// directLink is a direct transfer set up between two hosts for one copy.
type directLink struct {
	st, dt   probe.Transport
	from, to *probe.Host
	ec       probe.ExclusiveCreator
	keyDir   string // on the source: the private key, known_hosts and batch files
	authKeys string // on the target: the authorized_keys file holding the public half
	tag      string // the key's comment
	user     string // the target's login
	addr     string // the target's SSH address, as the source reaches it
	port     int
	// Said records what was set up, for the action's record.
	Said string
}

// directRunTag is the part of the tags and folder names that is the same for every
// one-copy key of a run, so a resume finds what an attempt of this run left.
func directRunTag(runID string) string {
	if runID == "" {
		runID = "unrecorded"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, runID)
}

// directForbidden says why the runbook or the inventory forbids a direct transfer, or "".
func (a *CopyAction) directForbidden(from, to *probe.Host) string {
	if a.Direct != nil && !*a.Direct {
		return "the runbook says direct: false for this copy"
	}
	for _, h := range []*probe.Host{from, to} {
		switch strings.ToLower(h.Vars["direct_transfer"]) {
		case "no", "false", "off", "0":
			return "the inventory says direct_transfer: " + h.Vars["direct_transfer"] + " for " + h.Name
		}
	}
	return ""
}

// setUpDirect prepares a direct transfer, or says why the copy is relayed instead. An
// error is returned only when something was changed and could not be undone.
func setUpDirect(ctx context.Context, x *stepExec, st, dt probe.Transport, ec probe.ExclusiveCreator, from, to *probe.Host) (*directLink, string, error) {
	switch {
	case from.PowerShell() || to.PowerShell():
		return nil, "a direct transfer needs POSIX hosts (OpenSSH's sftp client and sftp-server)", nil
	case from.Become != nil:
		return nil, fmt.Sprintf("%s reads the files %s, which the source's own SFTP client cannot", from.Name, from.Become), nil
	case to.Become != nil:
		return nil, fmt.Sprintf("%s writes the files %s, which a login through the one-copy key cannot", to.Name, to.Become), nil
	}
	pk, ok := dt.(probe.PinnedKey)
	if !ok || pk.VerifiedHostKey() == "" {
		return nil, "cutover holds no verified host key of " + to.Name + " to pin for the source", nil
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pk.VerifiedHostKey()))
	if err != nil {
		return nil, "the verified host key of " + to.Name + " does not parse: " + err.Error(), nil
	}
	sec, err := exclusive(st, from.Name)
	if err != nil {
		return nil, err.Error(), nil
	}
	d := &directLink{st: st, dt: dt, from: from, to: to, ec: ec, user: to.User}
	d.addr, d.port = to.Address, to.Port
	if v := to.Vars["direct_address"]; v != "" {
		// The target as the source reaches it, when that differs from the operator's view.
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			host, port = v, ""
		}
		d.addr = host
		if port != "" {
			if d.port, err = strconv.Atoi(port); err != nil {
				return nil, fmt.Sprintf("direct_address %q of %s has no valid port", v, to.Name), nil
			}
		}
	}
	if d.port == 0 {
		d.port = 22
	}
	if d.user == "" {
		// The login cutover itself uses there (the operator's own name by default).
		_, out, err := capture(ctx, dt, "id -un")
		if d.user = strings.TrimSpace(out); err != nil || d.user == "" || strings.ContainsAny(d.user, " \n@") {
			return nil, "cannot tell the login name on " + to.Name, nil
		}
	}
	// The tools: an sftp client on the source, an sftp-server on the target.
	if code, _, err := capture(ctx, st, "command -v sftp >/dev/null 2>&1"); err != nil || code != 0 {
		return nil, from.Name + " has no sftp client (OpenSSH's)", nil
	}
	_, server, err := capture(ctx, dt, `for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/libexec/sftp-server /usr/lib/ssh/sftp-server; do if [ -x "$p" ]; then printf '%s\n' "$p"; exit 0; fi; done; exit 1`)
	server = strings.TrimSpace(server)
	if err != nil || server == "" || strings.ContainsAny(server, "\"\\ \n") {
		return nil, to.Name + " has no sftp-server where OpenSSH installs it", nil
	}
	// The route: the source must reach the target's SSH port.
	target := net.JoinHostPort(d.addr, strconv.Itoa(d.port))
	if c, err := st.DialTCP(ctx, target); err != nil {
		return nil, fmt.Sprintf("%s cannot reach %s at %s: %v", from.Name, to.Name, target, err), nil
	} else {
		_ = c.Close()
	}
	srcAddr, why := sourceAddress(ctx, st, from, d.addr)
	if srcAddr == "" {
		return nil, why, nil
	}
	srcHome, err := homeOf(ctx, st)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", from.Name, err), nil
	}
	dstHome, err := homeOf(ctx, dt)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", to.Name, err), nil
	}
	d.authKeys = path.Join(dstHome, ".ssh", "authorized_keys")
	if _, err := safeTarget(ctx, dt, to, d.authKeys, targetOpts{What: "the authorized_keys file"}); err != nil {
		return nil, err.Error(), nil
	}

	// The key pair, made here for this copy only.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	run := directRunTag(x.runID)
	d.tag = directTag + ":" + run + ":" + hex.EncodeToString(rnd[:])
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, d.tag)
	if err != nil {
		return nil, "", err
	}
	opts := fmt.Sprintf(`from="%s",restrict,command="%s"`, srcAddr, server)
	line := opts + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + d.tag

	// The private half and the pinned host key on the source, in a folder of its own.
	d.keyDir = path.Join(srcHome, ".cutover-direct-"+run+"-"+hex.EncodeToString(rnd[:]))
	if err := st.Mkdir(ctx, d.keyDir, 0o700); err != nil {
		return nil, "", plantedError(from.Name, d.keyDir, err)
	}
	known := knownHostsLine(d.addr, d.port, hostKey)
	for _, f := range []struct {
		name string
		data []byte
	}{{"id", pem.EncodeToMemory(block)}, {"known_hosts", []byte(known)}} {
		if err := createNew(ctx, st, sec, from.Name, path.Join(d.keyDir, f.name), f.data, 0o600); err != nil {
			_ = st.RemoveAll(context.WithoutCancel(ctx), d.keyDir)
			return nil, "", err
		}
	}
	// The public half on the target.
	if err := d.editAuthorizedKeys(ctx, func(lines []string) []string { return append(lines, line) }); err != nil {
		_ = st.RemoveAll(context.WithoutCancel(ctx), d.keyDir)
		return nil, "", err
	}
	d.Said = fmt.Sprintf("direct from %s to %s: one-copy key %s installed in %s:%s (%s, restrict, command=%s), %s's host key pinned from the verified known_hosts",
		from.Name, to.Name, d.tag, to.Name, d.authKeys, `from="`+srcAddr+`"`, server, to.Name)
	// A test connection: a refusal (a firewall, a server that ignores authorized_keys)
	// is a reason to relay, not a failed copy.
	if out, err := d.sftp(ctx, "/dev/null"); err != nil {
		if cerr := d.close(ctx); cerr != nil {
			return nil, "", cerr
		}
		return nil, fmt.Sprintf("%s could not log in to %s with the one-copy key: %s", from.Name, to.Name, out), nil
	}
	return d, "", nil
}

// knownHostsLine is the known_hosts line of the target as the source names it.
func knownHostsLine(addr string, port int, key ssh.PublicKey) string {
	name := addr
	if port != 22 {
		name = "[" + addr + "]:" + strconv.Itoa(port)
	}
	return name + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + "\n"
}

// sourceAddress is the address the source connects to the target from, for the key's
// from= option: the kernel's choice of source address for that route.
func sourceAddress(ctx context.Context, st probe.Transport, from *probe.Host, target string) (string, string) {
	ip := net.ParseIP(target)
	cmd := ""
	if ip == nil {
		cmd = "t=$(getent ahosts " + probe.ShellQuote(target) + " | awk 'NR==1{print $1}') && [ -n \"$t\" ] && "
		target = "$t"
	} else {
		target = probe.ShellQuote(ip.String())
	}
	cmd += "ip -o route get " + target + " 2>/dev/null"
	code, out, err := capture(ctx, st, cmd)
	if err == nil && code == 0 {
		f := strings.Fields(out)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "src" {
				if a := net.ParseIP(f[i+1]); a != nil {
					return a.String(), ""
				}
			}
		}
		if net.ParseIP(strings.Trim(target, "'")).IsLoopback() {
			return "127.0.0.1", ""
		}
	}
	return "", fmt.Sprintf("cannot tell which address %s reaches the target from (ip route get gave no answer), which the one-copy key's from= needs", from.Name)
}

// homeOf is the login's home folder on a host.
func homeOf(ctx context.Context, t probe.Transport) (string, error) {
	code, out, err := capture(ctx, t, `printf '%s' "$HOME"`)
	out = strings.TrimSpace(out)
	if err != nil || code != 0 || !strings.HasPrefix(out, "/") || strings.ContainsAny(out, "\n") {
		return "", fmt.Errorf("cannot tell the login's home folder")
	}
	return cleanHostPath(out), nil
}

// editAuthorizedKeys rewrites the target's authorized_keys the safe way (putFile: a
// random name created exclusively, Lstat, rename; a link there is refused).
func (d *directLink) editAuthorizedKeys(ctx context.Context, edit func([]string) []string) error {
	return editAuthorizedKeys(ctx, d.dt, d.to, d.authKeys, edit)
}

func editAuthorizedKeys(ctx context.Context, t probe.Transport, h *probe.Host, file string, edit func([]string) []string) error {
	if err := t.MkdirAll(ctx, path.Dir(file), 0o700); err != nil {
		return fmt.Errorf("%s: %s: %w", h.Name, path.Dir(file), err)
	}
	old, err := readSmallFile(ctx, t, file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: reading %s: %w", h.Name, file, err)
	}
	var lines []string
	if s := strings.TrimRight(string(old), "\n"); s != "" {
		lines = strings.Split(s, "\n")
	}
	next := edit(lines)
	data := strings.Join(next, "\n")
	if data != "" {
		data += "\n"
	}
	if data == string(old) {
		return nil
	}
	_, err = putFile(ctx, t, fileWrite{Host: h.Name, Path: file, Data: []byte(data), Perm: 0o600, Create: true})
	return err
}

// close removes both halves of the key; it is safe to call twice.
func (d *directLink) close(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	err := d.editAuthorizedKeys(ctx, func(lines []string) []string {
		return dropTagged(lines, func(tag string) bool { return tag == d.tag })
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: removing the one-copy key %s from %s failed (remove that line by hand): %w", d.to.Name, d.tag, d.authKeys, err))
	}
	if err := d.st.RemoveAll(ctx, d.keyDir); err != nil {
		errs = append(errs, fmt.Errorf("%s: removing %s, which holds the one-copy key's private half, failed (remove it by hand): %w", d.from.Name, d.keyDir, err))
	}
	return errors.Join(errs...)
}

// release closes the link when its copy ends and says so in the record; a key that
// could not be removed fails the action. A nil link (a relayed copy) does nothing.
func (d *directLink) release(ctx context.Context, rec *ActionRecord, err *error) {
	if d == nil {
		return
	}
	if cerr := d.close(ctx); cerr != nil {
		*err = errors.Join(*err, cerr)
		return
	}
	rec.Changes = append(rec.Changes, "one-copy key removed from "+d.to.Name+" and its private half from "+d.from.Name)
}

// dropTagged removes authorized_keys lines whose comment is a one-copy tag matching.
func dropTagged(lines []string, match func(tag string) bool) []string {
	out := lines[:0:0]
	for _, l := range lines {
		f := strings.Fields(l)
		if n := len(f); n > 0 && strings.HasPrefix(f[n-1], directTag+":") && match(f[n-1]) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// sweepDirect removes what an earlier attempt of this run left of its one-copy keys (a
// run stopped before it could remove them): the lines in the target's authorized_keys
// and the folders in the source's home. Hosts that are not POSIX have none.
func sweepDirect(ctx context.Context, x *stepExec, st, dt probe.Transport, from, to *probe.Host) ([]string, error) {
	if from.PowerShell() || to.PowerShell() || from.Become != nil || to.Become != nil {
		return nil, nil
	}
	if pk, ok := dt.(probe.PinnedKey); !ok || pk.VerifiedHostKey() == "" {
		return nil, nil // keys are only ever set up over SSH with a verified host key
	}
	run := directRunTag(x.runID)
	var said []string
	// One command per host says whether anything is left; only then is anything read
	// or rewritten.
	tag := " " + directTag + ":" + run + ":"
	if home, n := homeAndCount(ctx, dt, `f="$HOME/.ssh/authorized_keys"; [ -f "$f" ] && grep -c -F -e `+probe.ShellQuote(tag)+` -- "$f"`); n > 0 {
		file := path.Join(home, ".ssh", "authorized_keys")
		removed := 0
		err := editAuthorizedKeys(ctx, dt, to, file, func(lines []string) []string {
			out := dropTagged(lines, func(t string) bool { return strings.HasPrefix(" "+t, tag) })
			removed = len(lines) - len(out)
			return out
		})
		if err != nil {
			return said, fmt.Errorf("%s: removing one-copy keys left by an earlier attempt from %s: %w", to.Name, file, err)
		}
		if removed > 0 {
			said = append(said, fmt.Sprintf("removed %s left by an earlier attempt from %s:%s", Plural(removed, "one-copy key", "one-copy keys"), to.Name, file))
		}
	}
	prefix := ".cutover-direct-" + run + "-"
	if home, n := homeAndCount(ctx, st, `ls -a -- "$HOME" | grep -c -F -e `+probe.ShellQuote(prefix)); n > 0 {
		re := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `[0-9a-f]{16}$`)
		entries, _ := st.ReadDir(ctx, home)
		for _, e := range entries {
			if !re.MatchString(e.Name()) {
				continue
			}
			p := path.Join(home, e.Name())
			if err := st.RemoveAll(ctx, p); err != nil {
				return said, fmt.Errorf("%s: removing %s, left by an earlier attempt: %w", from.Name, p, err)
			}
			said = append(said, fmt.Sprintf("removed %s:%s (a one-copy key's private half) left by an earlier attempt", from.Name, p))
		}
	}
	return said, nil
}

// homeAndCount runs count (a command printing a number) after printing the login's
// home folder, and returns both; a count that does not parse is zero.
func homeAndCount(ctx context.Context, t probe.Transport, count string) (string, int) {
	_, out, err := capture(ctx, t, `printf '%s\n' "$HOME"; `+count)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) < 2 || !strings.HasPrefix(lines[0], "/") {
		return "", 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(lines[len(lines)-1]))
	return cleanHostPath(lines[0]), n
}

// sftp runs OpenSSH's sftp client on the source with the one-copy key and batch file
// batch, and returns its last lines of output.
func (d *directLink) sftp(ctx context.Context, batch string) (string, error) {
	q := probe.ShellQuote
	cmd := strings.Join([]string{
		"sftp", "-q", "-b", q(batch),
		"-i", q(path.Join(d.keyDir, "id")),
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "ForwardAgent=no",
		"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", q("UserKnownHostsFile=" + path.Join(d.keyDir, "known_hosts")),
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20",
		"-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
		"-F", "/dev/null", "-P", strconv.Itoa(d.port),
		q(d.user + "@" + d.addr),
	}, " ") + " 2>&1"
	code, out, err := capture(ctx, d.st, cmd)
	last := strings.Join(tailLines(out, 3), " / ")
	if err != nil {
		return last, err
	}
	if code != 0 {
		return last, fmt.Errorf("sftp on %s exited %d: %s", d.from.Name, code, last)
	}
	return last, nil
}

// sftpSafe matches names the sftp batch file can carry in double quotes as they are.
var sftpSafe = regexp.MustCompile(`^[^"\\\x00-\x1f\x7f]+$`)

// directBatch is how many files one sftp run sends, so progress moves and a failure
// costs little.
const directBatch = 400

// send is the direct sender: each file gets a random temporary name, created empty and
// exclusively by cutover over its own connection, which the source's sftp client then
// fills (put -p keeps mode and times); cutover looks at it (Lstat: still a regular file,
// of the listed size) and renames it into place. Names the batch file cannot carry
// are relayed.
func (d *directLink) send(ctx context.Context, s *syncer, files []sendFile) ([]sendFile, error) {
	var direct, relay []sendFile
	for _, f := range files {
		if sftpSafe.MatchString(f.src) && sftpSafe.MatchString(f.dst) {
			direct = append(direct, f)
		} else {
			relay = append(relay, f)
		}
	}
	placed, err := relaySend(ctx, s, relay)
	if err != nil {
		return placed, err
	}
	for len(direct) > 0 {
		n := min(directBatch, len(direct))
		got, err := d.sendBatch(ctx, s, direct[:n])
		placed = append(placed, got...)
		if err != nil {
			return placed, err
		}
		direct = direct[n:]
	}
	return placed, nil
}

func (d *directLink) sendBatch(ctx context.Context, s *syncer, files []sendFile) ([]sendFile, error) {
	tmps := make([]string, len(files))
	var b strings.Builder
	put := "put"
	if s.preseed {
		put = "-put" // a file that vanished meanwhile is left for the window
	}
	cleanup := func() {
		for _, t := range tmps {
			if t != "" {
				_ = d.dt.Remove(context.WithoutCancel(ctx), t)
			}
		}
	}
	for i, f := range files {
		tmp := tempName(f.dst, tmpNew)
		w, err := d.ec.CreateExclusive(ctx, tmp, 0o600)
		if err != nil {
			cleanup()
			return nil, plantedError(d.to.Name, tmp, err)
		}
		tmps[i] = tmp
		if err := w.Close(); err != nil {
			cleanup()
			return nil, fmt.Errorf("%s: %s: %w", d.to.Name, tmp, err)
		}
		fmt.Fprintf(&b, "%s -p \"%s\" \"%s\"\n", put, f.src, tmp)
	}
	batch := path.Join(d.keyDir, "batch-"+hex.EncodeToString(randBytes(8)))
	sec, err := exclusive(d.st, d.from.Name)
	if err != nil {
		cleanup()
		return nil, err
	}
	if err := createNew(ctx, d.st, sec, d.from.Name, batch, []byte(b.String()), 0o600); err != nil {
		cleanup()
		return nil, err
	}
	defer func() { _ = d.st.Remove(context.WithoutCancel(ctx), batch) }()
	outcome := make(chan error, 1)
	go func() {
		_, err := d.sftp(ctx, batch)
		outcome <- err
	}()
	shown := make([]int64, len(files))
	if err := d.watch(ctx, s, files, tmps, shown, outcome); err != nil {
		cleanup()
		return nil, fmt.Errorf("direct transfer from %s to %s: %w", d.from.Name, d.to.Name, err)
	}
	placed := make([]sendFile, 0, len(files))
	for i, f := range files {
		err := placeFile(ctx, d.dt, d.to.Name, tmps[i], f.dst, f.fi.Size())
		if err == nil {
			// put -p gave it the source's mode and modification time.
			placed = append(placed, f)
			tmps[i] = ""
			s.prog.add(int(f.fi.Size() - shown[i]))
			continue
		}
		_ = d.dt.Remove(context.WithoutCancel(ctx), tmps[i])
		tmps[i] = ""
		if !s.preseed {
			cleanup()
			return placed, fmt.Errorf("%s changed while it was copied: %w", f.src, err)
		}
	}
	return placed, nil
}

// directWatchEvery is how often a running sftp batch's progress is read from the
// target, and directWatchFiles how many of its files one look may stat.
const (
	directWatchEvery = 100 * time.Millisecond
	directWatchFiles = 8
)

// watch waits for the outcome of a running sftp batch and reports its progress
// meanwhile: the source's client reports nothing, so cutover looks at the sizes of the
// temporary files on the target, which the client fills one after another in the
// batch's order. shown[i] is what was reported of files[i] so far (never more than its
// listed size, and never taken back), so placing the file adds only the rest. A look
// that fails is left to the batch's outcome to explain.
func (d *directLink) watch(ctx context.Context, s *syncer, files []sendFile, tmps []string, shown []int64, outcome <-chan error) error {
	tick := time.NewTicker(directWatchEvery)
	defer tick.Stop()
	next := 0
	for {
		select {
		case err := <-outcome:
			return err
		case <-tick.C:
		}
		for n := 0; n < directWatchFiles && next < len(files); n++ {
			fi, err := d.dt.Lstat(ctx, tmps[next])
			if err != nil || !fi.Mode().IsRegular() {
				break
			}
			size, want := min(fi.Size(), files[next].fi.Size()), files[next].fi.Size()
			if size > shown[next] {
				s.prog.add(int(size - shown[next]))
				shown[next] = size
			}
			if size < want {
				break
			}
			next++
		}
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
