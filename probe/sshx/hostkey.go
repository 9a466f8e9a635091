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
	var algos []string
	if known := db.HostKeyAlgorithms(addr); len(known) > 0 {
		// Ask for the key types on file first: a host with an ecdsa and an ed25519 key
		// would otherwise present ecdsa (x/crypto's preference) and fail against an
		// ed25519-only entry. The other types stay allowed, so a host that no longer has
		// any key of the types on file is reported as changed rather than as having "no
		// common algorithm".
		rest := slices.DeleteFunc(ssh.SupportedAlgorithms().HostKeys, func(a string) bool { return slices.Contains(known, a) })
		algos = append(known, rest...)
	}

	check := db.HostKeyCallback()
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
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
			return err // a certificate problem, say: x/crypto's message is the best there is
		}
		e.Problem = probe.KeyUnknown
		if len(keyErr.Want) > 0 {
			e.Problem = probe.KeyChanged
		}
		for _, k := range keyErr.Want {
			e.Known = append(e.Known, knownKey(k))
		}
		return e
	}, algos, nil
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

// fingerprint is a key as ssh-keygen -l shows it: "ssh-ed25519 SHA256:...".
func fingerprint(k ssh.PublicKey) string { return k.Type() + " " + ssh.FingerprintSHA256(k) }

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
