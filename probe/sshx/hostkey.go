package sshx

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/cutover/cutover/probe"
)

// verifier returns the host key check for h and the host key algorithms to ask for.
// There is no way to skip the check: a key must be in one of h's known_hosts files.
func verifier(h *probe.Host) (ssh.HostKeyCallback, []string, error) {
	files, err := knownHostsFiles(h)
	if err != nil {
		return nil, nil, err
	}
	db, err := loadKnownHosts(files)
	if err != nil {
		return nil, nil, fmt.Errorf("reading known_hosts: %w", err)
	}

	// The lookup key is "host:port"; the database normalises it the way OpenSSH writes
	// entries ("host" for port 22, "[host]:port" otherwise).
	addr := h.Addr()
	var authorities []ssh.PublicKey // @cert-authority keys for the host
	for _, k := range db.HostKeys(addr) {
		if k.Cert {
			authorities = append(authorities, k.PublicKey)
		}
	}
	algos := hostKeyAlgorithms(db.HostKeyAlgorithms(addr), len(authorities) > 0)

	check := db.HostKeyCallback()
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		if cert, ok := key.(*ssh.Certificate); ok && err != nil && strings.Contains(err.Error(), "ssh: no authorities for hostname") {
			// No @cert-authority entry vouches for the certificate. As OpenSSH does, check
			// the key it certifies as a plain key, so that the host is reported as unknown
			// or changed with the fingerprint its console shows; a certificate from a
			// revoked authority stays refused, as in OpenSSH.
			if rerr := check(hostname, remote, cert.SignatureKey); isRevoked(rerr) {
				err = rerr
			} else {
				err = check(hostname, remote, cert.Key)
			}
		}
		if err == nil {
			return nil
		}
		e := &probe.HostKeyError{
			Host:       h.Name,
			Addr:       addr,
			Presented:  fingerprint(key),
			Files:      files,
			KnownHosts: knownhosts.Normalize(addr),
		}
		if revoked, ok := errors.AsType[*xknownhosts.RevokedError](err); ok {
			e.Problem, e.Known = probe.KeyRevoked, []string{knownKey(revoked.Revoked)}
			return e
		}
		keyErr, ok := errors.AsType[*xknownhosts.KeyError](err)
		if !ok {
			return err // an invalid certificate, say: x/crypto's message is the best there is
		}
		e.Problem = probe.KeyUnknown
		for _, k := range keyErr.Want {
			// x/crypto lists @cert-authority entries among the keys on file; an authority
			// is not the host's key, so only plain entries make the key "changed".
			if slices.ContainsFunc(authorities, func(a ssh.PublicKey) bool { return string(a.Marshal()) == string(k.Key.Marshal()) }) {
				continue
			}
			e.Problem = probe.KeyChanged
			e.Known = append(e.Known, knownKey(k))
		}
		return e
	}, algos, nil
}

// hostKeyAlgorithms is the host key algorithms to ask for, given the types on file for
// the host (known) and whether a @cert-authority entry covers it.
//
// The types on file come first: a host with an ecdsa and an ed25519 key would otherwise
// present ecdsa (x/crypto's preference) and fail against an ed25519-only entry. The
// other plain types stay allowed, so a host that no longer has any key of the types on
// file is reported as changed rather than as having "no common algorithm". Certificate
// types are asked for only when an authority could vouch for one: x/crypto prefers them,
// and a host with a certificate would present it and be refused with "no authorities"
// instead of being reported as unknown or changed.
func hostKeyAlgorithms(known []string, authority bool) []string {
	// ssh-rsa (SHA-1 signatures) is last, as in x/crypto's defaults, for old hosts.
	all := append(ssh.SupportedAlgorithms().HostKeys, ssh.KeyAlgoRSA)
	algos := slices.Clone(known)
	for _, a := range all {
		if (authority || !isCertAlgo(a)) && !slices.Contains(algos, a) {
			algos = append(algos, a)
		}
	}
	return algos
}

// isCertAlgo reports whether a names a certificate host key algorithm
// ("ssh-ed25519-cert-v01@openssh.com").
func isCertAlgo(a string) bool { return strings.Contains(a, "-cert-v01@openssh.com") }

func isRevoked(err error) bool {
	_, ok := errors.AsType[*xknownhosts.RevokedError](err)
	return ok
}

// knownHostsFiles returns those of h's known_hosts files (by default
// ~/.ssh/known_hosts) that exist: a missing file only means every key is unknown.
func knownHostsFiles(h *probe.Host) ([]string, error) {
	files := h.KnownHosts
	if len(files) == 0 {
		if home, err := os.UserHomeDir(); err == nil {
			files = []string{filepath.Join(home, ".ssh", "known_hosts")}
		}
	}
	var exist []string
	for _, f := range files {
		_, err := os.Stat(f)
		switch {
		case err == nil:
			exist = append(exist, f)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	return exist, nil
}

// fingerprint is a key as ssh-keygen -l shows it: "ssh-ed25519 SHA256:...". A
// certificate is shown as the key it certifies: what ssh-keygen -l shows for the host's
// key file, and what stays the same when the certificate is renewed.
func fingerprint(k ssh.PublicKey) string {
	if cert, ok := k.(*ssh.Certificate); ok {
		k = cert.Key
	}
	return k.Type() + " " + ssh.FingerprintSHA256(k)
}

// knownKey is a known_hosts entry's key and where it is written.
func knownKey(k xknownhosts.KnownKey) string {
	return fmt.Sprintf("%s (%s:%d)", fingerprint(k.Key), k.Filename, k.Line)
}

// knownHostsCache shares parsed known_hosts files between dials. A probe of hundreds of
// hosts that share one known_hosts file would otherwise parse it once per host, and every
// connection would keep its own copy for re-keying: 200 hosts and a 200-line file made
// 40,000 parsed entries. An entry is used while its files' sizes and modification times
// are unchanged, so an edited file is read again on the next dial.
var knownHostsCache struct {
	sync.Mutex
	m map[string]cachedKnownHosts
}

type cachedKnownHosts struct {
	stamp string
	db    *knownhosts.HostKeyDB
}

func loadKnownHosts(files []string) (*knownhosts.HostKeyDB, error) {
	key := strings.Join(files, "\x00")
	var stamp strings.Builder
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&stamp, "%d:%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	knownHostsCache.Lock()
	defer knownHostsCache.Unlock()
	if c, ok := knownHostsCache.m[key]; ok && c.stamp == stamp.String() {
		return c.db, nil
	}
	db, err := knownhosts.NewDB(files...)
	if err != nil {
		return nil, err
	}
	if knownHostsCache.m == nil || len(knownHostsCache.m) > 64 {
		knownHostsCache.m = map[string]cachedKnownHosts{}
	}
	// A file written within the clock's resolution of its last read could change again
	// without a new stamp: such a fresh file is not cached.
	fresh := false
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && time.Since(fi.ModTime()) < 2*time.Second {
			fresh = true
		}
	}
	if !fresh {
		knownHostsCache.m[key] = cachedKnownHosts{stamp: stamp.String(), db: db}
	}
	return db, nil
}
