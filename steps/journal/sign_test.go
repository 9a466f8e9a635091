package journal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// keygen makes a key with OpenSSH's ssh-keygen and returns its signer and its private
// key file; the tests check cutover's signatures against OpenSSH's own tool.
func keygen(t *testing.T, kind string) (ssh.Signer, string) {
	t.Helper()
	bin, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed (CI installs openssh-client)")
	}
	file := filepath.Join(t.TempDir(), "id_"+kind)
	args := []string{"-q", "-t", kind, "-N", "", "-C", "op@site", "-f", file}
	if kind == "rsa" {
		args = append(args, "-b", "2048")
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return s, file
}

// allowedSigners writes an allowed_signers file giving principal the key, with options.
func allowedSigners(t *testing.T, principal, options string, key ssh.PublicKey) string {
	t.Helper()
	line := principal + " "
	if options != "" {
		line += options + " "
	}
	line += string(ssh.MarshalAuthorizedKey(key))
	p := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(p, []byte("# who may sign cutover journals\n\n"+line), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sshVerify runs ssh-keygen -Y verify on the journal; it returns its output and whether
// it accepted the signature.
func sshVerify(t *testing.T, path, signers, principal string) (string, bool) {
	t.Helper()
	cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", signers, "-I", principal, "-n", journal.Namespace, "-s", journal.SigPath(path))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// signedJournal writes events to a new journal and closes it, signing it with s.
func signedJournal(t *testing.T, s ssh.Signer, events []*steps.Event) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.SignWith(s)
	for _, ev := range events {
		if err := w.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close (signs): %v", err)
	}
	return path
}

// TestSignatureChecksWithOpenSSH: a journal signed on close checks with ssh-keygen -Y
// verify and with VerifySigned, for each kind of key; a signature ssh-keygen -Y sign
// makes checks with VerifySigned too.
func TestSignatureChecksWithOpenSSH(t *testing.T) {
	for _, kind := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(kind, func(t *testing.T) {
			s, keyFile := keygen(t, kind)
			path := signedJournal(t, s, jEvents(5))
			signers := allowedSigners(t, "op@site", `namespaces="cutover-journal,file"`, s.PublicKey())
			if out, ok := sshVerify(t, path, signers, "op@site"); !ok || !strings.Contains(out, `Good "cutover-journal" signature for op@site`) {
				t.Fatalf("ssh-keygen -Y verify refused cutover's signature: %s", out)
			}
			list, err := journal.LoadAllowedSigners(signers)
			if err != nil {
				t.Fatal(err)
			}
			got, err := journal.VerifySigned(path, list, time.Now())
			if err != nil || !got.Whole || got.Lines != 5 || strings.Join(got.Principals, ",") != "op@site" {
				t.Fatalf("VerifySigned = %+v, %v", got, err)
			}

			// The other way: ssh-keygen signs, cutover checks.
			os.Remove(journal.SigPath(path))
			out, err := exec.Command("ssh-keygen", "-Y", "sign", "-f", keyFile, "-n", journal.Namespace, path).CombinedOutput()
			if err != nil {
				t.Fatalf("ssh-keygen -Y sign: %v: %s", err, out)
			}
			if got, err := journal.VerifySigned(path, list, time.Now()); err != nil || !got.Whole {
				t.Fatalf("VerifySigned of ssh-keygen's signature = %+v, %v", got, err)
			}
		})
	}
}

// rechain rewrites the journal with line i (from 0) changed by edit and every line
// after it given the hash of the new line before: what anyone who can write the file
// can do, since the chain holds no secret.
func rechain(t *testing.T, path string, i int, edit func(*steps.Event)) {
	t.Helper()
	lines := jLines(t, path)
	prev := ""
	var out []byte
	for n, l := range lines {
		ev := &steps.Event{}
		if err := json.Unmarshal(l, ev); err != nil {
			t.Fatal(err)
		}
		if n == i {
			edit(ev)
		}
		if n > 0 {
			ev.Prev = prev
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		prev = hex.EncodeToString(sum[:])
		out = append(append(out, b...), '\n')
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestForgedJournalFailsItsSignature: a journal whose note was changed and whose chain
// was computed again passes the chain check, which is all the chain can promise, and
// fails its signature: with VerifySigned, with ssh-keygen, and when resumed.
func TestForgedJournalFailsItsSignature(t *testing.T) {
	s, _ := keygen(t, "ed25519")
	path := signedJournal(t, s, jEvents(5))
	signers := allowedSigners(t, "op@site", "", s.PublicKey())
	rechain(t, path, 2, func(ev *steps.Event) { ev.Message = "the DBA approved this" })

	if err := journal.Verify(path); err != nil {
		t.Fatalf("the re-chained journal should pass the chain check (it cannot tell): %v", err)
	}
	list, err := journal.LoadAllowedSigners(signers)
	if err != nil {
		t.Fatal(err)
	}
	_, err = journal.VerifySigned(path, list, time.Now())
	if err == nil || !strings.Contains(err.Error(), "does not match its signature") || !strings.Contains(err.Error(), path) {
		t.Fatalf("VerifySigned = %v, want a refusal naming the journal", err)
	}
	if out, ok := sshVerify(t, path, signers, "op@site"); ok {
		t.Fatalf("ssh-keygen accepted the forged journal: %s", out)
	}
	if _, _, err := journal.Append(path); err == nil || !strings.Contains(err.Error(), "does not match its signature") {
		t.Fatalf("Append = %v, want a refusal", err)
	}
}

// TestLinesAfterTheSignature: lines written after the last signature (a run killed
// before it could sign, or lines someone added) are named; the signed ones still
// check, and the journal can be resumed, the resumed run's signature covering all.
func TestLinesAfterTheSignature(t *testing.T) {
	s, _ := keygen(t, "ed25519")
	events := jEvents(6)
	path := signedJournal(t, s, events[:4])
	w, j, err := journal.Append(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Signature == nil || j.Signature.Lines != 4 || !j.Signature.Whole {
		t.Fatalf("Append: signature %+v", j.Signature)
	}
	for _, ev := range events[4:] {
		if err := w.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	w.Close() // not signed: as if the process had been killed
	list := []journal.AllowedSigner{{Principals: []string{"op@site"}, Key: s.PublicKey()}}
	_, err = journal.VerifySigned(path, list, time.Now())
	if err == nil || !strings.Contains(err.Error(), "covers lines 1-4 of 6") {
		t.Fatalf("VerifySigned = %v", err)
	}
	w, j, err = journal.Append(path)
	if err != nil {
		t.Fatalf("Append after unsigned lines: %v", err)
	}
	if j.Signature == nil || j.Signature.Lines != 4 || j.Signature.Whole {
		t.Fatalf("Append: signature %+v", j.Signature)
	}
	w.SignWith(s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := journal.VerifySigned(path, list, time.Now()); err != nil || !got.Whole || got.Lines != 6 {
		t.Fatalf("after signing again: %+v, %v", got, err)
	}
}

// TestAllowedSignersDecide: a valid signature by a key the file does not let sign
// journals (another namespace, expired, not listed, a certificate authority) fails,
// saying why; a line that is not one is an error with file:line.
func TestAllowedSignersDecide(t *testing.T) {
	s, _ := keygen(t, "ed25519")
	other, _ := keygen(t, "ed25519")
	path := signedJournal(t, s, jEvents(3))
	now := time.Now()
	for _, c := range []struct {
		options string
		key     ssh.PublicKey
		want    string
	}{
		{`namespaces="git,file"`, s.PublicKey(), "does not let it sign cutover-journal"},
		{`valid-before="20200101"`, s.PublicKey(), "valid only before 2020-01-01"},
		{`valid-after="29990101Z"`, s.PublicKey(), "valid only after 2999-01-01"},
		{`cert-authority`, s.PublicKey(), "certificate authority"},
		{"", other.PublicKey(), "not among the allowed signers"},
		{`namespaces="cutover-*",valid-after="20200101"`, s.PublicKey(), ""},
	} {
		list, err := journal.LoadAllowedSigners(allowedSigners(t, "op@site,backup@site", c.options, c.key))
		if err != nil {
			t.Fatal(err)
		}
		_, err = journal.VerifySigned(path, list, now)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.options, err, c.want)
		}
	}
	for _, bad := range []string{"op@site\n", "op@site ssh-ed25519 AAAAnotbase64\n", "op@site frobnicate " + string(ssh.MarshalAuthorizedKey(s.PublicKey())), "op@site valid-after=\"tomorrow\" " + string(ssh.MarshalAuthorizedKey(s.PublicKey()))} {
		_, err := journal.ParseAllowedSigners("signers", []byte("# ok\n"+bad))
		if err == nil || !strings.HasPrefix(err.Error(), "signers:2: ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestExposedJournalIsRefused: a journal, or its folder, that another user owns or
// that group or others may write is named with its owner and mode, and refused for
// resume; a sticky folder such as /tmp is fine.
func TestExposedJournalIsRefused(t *testing.T) {
	path := jWrite(t, jEvents(3))
	dir := filepath.Dir(path)
	if p := journal.Exposure(path); len(p) != 0 {
		t.Fatalf("a fresh journal: %v", p)
	}
	os.Chmod(path, 0o666)
	p := journal.Exposure(path)
	if len(p) != 1 || !strings.Contains(p[0], "journal "+path+" is writable by others (mode -rw-rw-rw-") {
		t.Fatalf("%v", p)
	}
	if _, _, err := journal.Append(path); err == nil || !strings.Contains(err.Error(), "refusing to continue") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Append = %v", err)
	}
	os.Chmod(path, 0o600)
	os.Chmod(dir, 0o775)
	if p := journal.Exposure(path); len(p) != 1 || !strings.Contains(p[0], "journal folder "+dir+" is writable by its group") {
		t.Fatalf("%v", p)
	}
	os.Chmod(dir, 0o777|os.ModeSticky)
	if p := journal.Exposure(path); len(p) != 0 {
		t.Fatalf("a sticky folder: %v", p)
	}
	os.Chmod(dir, 0o700)
	if os.Geteuid() != 0 {
		return // only root can give a file to another user
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	p = journal.Exposure(path)
	if len(p) != 1 || !strings.Contains(p[0], "is owned by ") || !strings.Contains(p[0], "uid 65534") || !strings.Contains(p[0], "not by root (uid 0)") {
		t.Fatalf("%v", p)
	}
	if _, _, err := journal.Append(path); err == nil || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("Append = %v", err)
	}
}

// The bytes of a signature file are what ssh-keygen writes.
func TestSignatureFileIsArmored(t *testing.T) {
	s, _ := keygen(t, "ed25519")
	path := signedJournal(t, s, jEvents(2))
	data, err := os.ReadFile(journal.SigPath(path))
	if err != nil || !bytes.HasPrefix(data, []byte("-----BEGIN SSH SIGNATURE-----\n")) {
		t.Fatalf("%q %v", data, err)
	}
}
