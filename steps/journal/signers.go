package journal

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// AllowedSigner is one line of an allowed_signers file, the file ssh-keygen -Y verify
// reads (ssh-keygen(1), "ALLOWED SIGNERS"): who may sign, with which key, for which
// namespaces and when.
type AllowedSigner struct {
	// Principals are the names (or patterns, such as *@example.com) the key stands for.
	Principals []string
	Key        ssh.PublicKey
	// Namespaces limit what the key may sign (patterns); empty means anything.
	Namespaces []string
	// ValidAfter and ValidBefore bound when the key may be used; zero means no bound.
	ValidAfter, ValidBefore time.Time
	// CertAuthority marks a key that vouches for certificates rather than signing.
	CertAuthority bool
	// At is the line it comes from (file:line), for messages.
	At string
}

// LoadAllowedSigners reads an allowed_signers file.
func LoadAllowedSigners(file string) ([]AllowedSigner, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseAllowedSigners(file, data)
}

// ParseAllowedSigners reads allowed_signers lines: principals, options, the key.
// Empty lines and # comments are skipped; a line that is not one is an error naming
// file:line.
func ParseAllowedSigners(file string, data []byte) ([]AllowedSigner, error) {
	var out []AllowedSigner
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		at := fmt.Sprintf("%s:%d", file, n)
		principals, rest, ok := firstField(line)
		if !ok || principals == "" || strings.TrimSpace(rest) == "" {
			return nil, fmt.Errorf("%s: expected principals, options and a public key", at)
		}
		key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(rest))
		if err != nil {
			return nil, fmt.Errorf("%s: the public key: %v", at, err)
		}
		s := AllowedSigner{Principals: strings.Split(principals, ","), Key: key, At: at}
		for _, o := range options {
			name, value, _ := strings.Cut(o, "=")
			value = strings.Trim(value, `"`)
			switch strings.ToLower(name) {
			case "cert-authority":
				s.CertAuthority = true
			case "namespaces":
				s.Namespaces = strings.Split(value, ",")
			case "valid-after", "valid-before":
				t, err := signerTime(value)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %v", at, name, err)
				}
				if strings.EqualFold(name, "valid-after") {
					s.ValidAfter = t
				} else {
					s.ValidBefore = t
				}
			default:
				return nil, fmt.Errorf("%s: unknown option %q (cert-authority, namespaces, valid-after and valid-before are known)", at, name)
			}
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// firstField splits off the first field of line, which may be double-quoted.
func firstField(line string) (string, string, bool) {
	if strings.HasPrefix(line, `"`) {
		end := strings.IndexByte(line[1:], '"')
		if end < 0 {
			return "", "", false
		}
		return line[1 : end+1], line[end+2:], true
	}
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return line, "", true
	}
	return line[:i], line[i+1:], true
}

// signerTime reads YYYYMMDD[HHMM[SS]], in local time, or UTC with a trailing Z.
func signerTime(s string) (time.Time, error) {
	loc := time.Local
	if rest, ok := strings.CutSuffix(s, "Z"); ok {
		s, loc = rest, time.UTC
	}
	for _, layout := range []string{"20060102", "200601021504", "20060102150405"} {
		if len(s) == len(layout) {
			return time.ParseInLocation(layout, s, loc)
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 20260131 or 202601311200Z", s)
}

// matchAny reports whether name matches one of the patterns (* and ?).
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, name); err == nil && ok {
			return true
		}
	}
	return false
}

// Signed is a journal whose signature an allowed signer made.
type Signed struct {
	*Signature
	// Principals are those of the allowed_signers lines that let the key sign journals.
	Principals []string
	// Lines is the number of lines in the journal, of which Signature.Lines are signed.
	Lines int
}

// VerifySigned checks the journal at path against its signature and the allowed
// signers: the signature must be intact over the journal, made by a key that an
// allowed_signers line lets sign journals at now, and cover every line. Its error
// says which of these failed (its message names the journal).
func VerifySigned(path string, signers []AllowedSigner, now time.Time) (*Signed, error) {
	j, err := Read(path)
	if err != nil {
		return nil, err
	}
	sig, err := ReadSignature(path)
	if err != nil {
		return nil, err
	}
	fp := fmt.Sprintf("%s key %s", sig.Key.Type(), ssh.FingerprintSHA256(sig.Key))
	out := &Signed{Signature: sig, Lines: j.lines}
	var why []string
	for _, s := range signers {
		switch {
		case !equalKeys(s.Key, sig.Key):
			continue
		case s.CertAuthority:
			why = append(why, s.At+" names it as a certificate authority, which signs certificates, not journals")
		case len(s.Namespaces) > 0 && !matchAny(s.Namespaces, Namespace):
			why = append(why, fmt.Sprintf("%s does not let it sign %s (namespaces=%s)", s.At, Namespace, strings.Join(s.Namespaces, ",")))
		case !s.ValidAfter.IsZero() && now.Before(s.ValidAfter):
			why = append(why, fmt.Sprintf("%s makes it valid only after %s", s.At, s.ValidAfter.Format(time.RFC3339)))
		case !s.ValidBefore.IsZero() && !now.Before(s.ValidBefore):
			why = append(why, fmt.Sprintf("%s made it valid only before %s", s.At, s.ValidBefore.Format(time.RFC3339)))
		default:
			out.Principals = append(out.Principals, s.Principals...)
		}
	}
	switch {
	case len(out.Principals) == 0 && len(why) == 0:
		return out, fmt.Errorf("%s is signed by %s, which is not among the allowed signers", path, fp)
	case len(out.Principals) == 0:
		return out, fmt.Errorf("%s is signed by %s, which may not sign it: %s", path, fp, strings.Join(why, "; "))
	case !sig.Whole:
		return out, fmt.Errorf("%s: the signature by %s (%s) covers lines 1-%d of %d: the lines after it were added after it was signed "+
			"(by a run that was killed before it could sign them, or by someone else)", path, strings.Join(out.Principals, ", "), fp, sig.Lines, j.lines)
	case j.Broken != nil:
		// Cannot happen with a whole signature over a broken chain unless the signer
		// signed a broken journal; say so rather than pass it.
		return out, fmt.Errorf("%s:%v (the signed journal fails its own chain)", path, j.Broken)
	}
	return out, nil
}
