package lab

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/probe"
)

// What makes a simulated host a host of its own, although every lab host runs on the
// operator's machine: its name (bin/hostname), its address in the simulated network
// (hostname -I), its machine identity, and the names it resolves (bin/getent reads the
// lab's zone file). The lab writes these shims into every host's bin folder, which
// comes first on the host's PATH; scripts and runbooks use them as they would the real
// commands. The network itself (which host reaches which, how slowly) is in network.go
// and in the rules file that bin/lab-net edits.

const (
	zoneFile  = "dns.zone"  // "name address..." lines: the simulated DNS
	rulesFile = "net.rules" // "block FROM TO" and "delay FROM TO 40ms" lines
)

// ip returns the host's address in the simulated network: HostSpec.IP, or
// 10.77.0.(10+position) so every host has a distinct, stable address.
func (l *Lab) ip(h *host) string {
	if h.spec.IP != "" {
		return h.spec.IP
	}
	for i, x := range l.hosts {
		if x == h {
			return fmt.Sprintf("10.77.0.%d", 10+i)
		}
	}
	return ""
}

// writeIdentity (re)writes the lab's shims into a host and creates its machine identity
// once. The shims are the lab's, not the host's state, so they are rewritten on every
// Setup; the identity survives, as a machine's does.
func (l *Lab) writeIdentity(h *host) error {
	short, _, _ := strings.Cut(h.hostname, ".")
	files := map[string]string{
		"bin/hostname": fmt.Sprintf(`#!/bin/sh
# Simulated host identity (cutover practice lab): this host's name and address.
case "$1" in
-s | --short) printf '%%s\n' %s ;;
-I | --all-ip-addresses) printf '%%s\n' %s ;;
-f | --fqdn | "") printf '%%s\n' %s ;;
*) printf '%%s\n' %s ;;
esac
`, probe.ShellQuote(short), probe.ShellQuote(l.ip(h)), probe.ShellQuote(h.hostname), probe.ShellQuote(h.hostname)),
		"bin/getent": fmt.Sprintf(`#!/bin/sh
# Simulated name service (cutover practice lab): host lookups read the lab's zone file,
# or this host's own view in var/dns.zone when it has one; other databases are the
# machine's.
zone=%s
[ -f "$(dirname "$0")/../var/dns.zone" ] && zone="$(dirname "$0")/../var/dns.zone"
case "$1" in
hosts | ahosts | ahostsv4)
	db=$1
	shift
	rc=2
	for name in "$@"; do
		n=$(echo "$name" | tr 'A-Z' 'a-z')
		for ip in $(awk -v n="$n" 'tolower($1) == n { for (i = 2; i <= NF; i++) print $i }' "$zone"); do
			rc=0
			case "$db" in
			hosts) echo "$ip      $name" ;;
			*) printf '%%s STREAM %%s\n%%s DGRAM\n%%s RAW\n' "$ip" "$name" "$ip" "$ip" ;;
			esac
		done
	done
	exit $rc
	;;
*) exec /usr/bin/getent "$@" ;;
esac
`, probe.ShellQuote(filepath.Join(l.dir, zoneFile))),
		"bin/lab-dns": fmt.Sprintf(`#!/bin/sh
# lab-dns: change the simulated DNS of the cutover practice lab (what a DNS
# administrator would do). Usage: lab-dns set NAME ADDRESS... | lab-dns show [NAME]
zone=%s
case "$1" in
set)
	[ $# -ge 3 ] || { echo "usage: lab-dns set NAME ADDRESS..." >&2; exit 2; }
	name=$(echo "$2" | tr 'A-Z' 'a-z')
	shift 2
	tmp="$zone.$$"
	awk -v n="$name" 'tolower($1) != n' "$zone" >"$tmp"
	echo "$name $*" >>"$tmp"
	mv "$tmp" "$zone"
	echo "$name now resolves to $*"
	;;
show)
	if [ -n "$2" ]; then awk -v n="$(echo "$2" | tr 'A-Z' 'a-z')" 'tolower($1) == n' "$zone"; else cat "$zone"; fi
	;;
*) echo "usage: lab-dns set NAME ADDRESS... | lab-dns show [NAME]" >&2; exit 2 ;;
esac
`, probe.ShellQuote(filepath.Join(l.dir, zoneFile))),
		"bin/lab-net": fmt.Sprintf(`#!/bin/sh
# lab-net: change the simulated network of the cutover practice lab (what a network
# administrator would do). Hosts are inventory names.
#   lab-net block FROM TO | lab-net unblock FROM TO | lab-net delay FROM TO 40ms | lab-net show
rules=%s
touch "$rules"
case "$1" in
block | unblock | delay)
	[ $# -ge 3 ] || { echo "usage: lab-net block|unblock|delay FROM TO [DURATION]" >&2; exit 2; }
	tmp="$rules.$$"
	awk -v a="$2" -v b="$3" '!(($1 == "block" || $1 == "delay") && $2 == a && $3 == b)' "$rules" >"$tmp"
	case "$1" in
	block) echo "block $2 $3" >>"$tmp" ;;
	delay) echo "delay $2 $3 ${4:?duration such as 40ms}" >>"$tmp" ;;
	esac
	mv "$tmp" "$rules"
	;;
show) cat "$rules" ;;
*) echo "usage: lab-net block|unblock|delay FROM TO [DURATION] | lab-net show" >&2; exit 2 ;;
esac
`, probe.ShellQuote(filepath.Join(l.dir, rulesFile))),
	}
	for rel, content := range files {
		p := filepath.Join(h.root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(p, []byte(content), 0o755); err != nil {
			return fmt.Errorf("lab: host %s: %w", h.name, err)
		}
	}
	idPath := filepath.Join(h.root, "etc", "machine-id")
	if _, err := os.Stat(idPath); err != nil {
		sum := sha256.Sum256([]byte(l.dir + "\x00" + h.name + "\x00" + time.Now().String()))
		if err := os.MkdirAll(filepath.Dir(idPath), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(idPath, []byte(hex.EncodeToString(sum[:16])+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeZone creates the simulated DNS when the lab is new: every host's names resolve
// to its address, plus the scenario's own records. An existing zone is the lab's state
// (a name re-pointed during a run) and is kept.
func (l *Lab) writeZone() error {
	p := filepath.Join(l.dir, zoneFile)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("# Simulated DNS of the cutover practice lab: NAME ADDRESS...\n")
	for _, h := range l.hosts {
		fmt.Fprintf(&b, "%s %s\n", strings.ToLower(h.hostname), l.ip(h))
		if !strings.EqualFold(h.hostname, h.name) {
			fmt.Fprintf(&b, "%s %s\n", strings.ToLower(h.name), l.ip(h))
		}
	}
	names := make([]string, 0, len(l.sc.DNS))
	for n := range l.sc.DNS {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", strings.ToLower(n), strings.Join(l.sc.DNS[n], " "))
	}
	return writeFileAtomic(p, []byte(b.String()), 0o644)
}

// netRules are the file-based network rules, re-read when the file changes.
type netRules struct {
	mu      sync.Mutex
	path    string
	modTime time.Time
	size    int64
	blocked map[[2]string]bool
	delay   map[[2]string]time.Duration
}

func (r *netRules) load() (map[[2]string]bool, map[[2]string]time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fi, err := os.Stat(r.path)
	if err != nil {
		return nil, nil
	}
	if fi.ModTime().Equal(r.modTime) && fi.Size() == r.size && r.blocked != nil {
		return r.blocked, r.delay
	}
	blocked, delay := map[[2]string]bool{}, map[[2]string]time.Duration{}
	f, err := os.Open(r.path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 3 && fields[0] == "block":
			blocked[[2]string{fields[1], fields[2]}] = true
		case len(fields) == 4 && fields[0] == "delay":
			if d, err := time.ParseDuration(fields[3]); err == nil {
				delay[[2]string{fields[1], fields[2]}] = d
			}
		}
	}
	r.modTime, r.size, r.blocked, r.delay = fi.ModTime(), fi.Size(), blocked, delay
	return blocked, delay
}

// Delay makes TCP connections from host from to host to take d longer to open, which is
// how the lab simulates a slow (WAN-like) link. It panics on unknown hosts, like Block.
func (l *Lab) Delay(from, to string, d time.Duration) {
	key := [2]string{l.mustHost(from).name, l.mustHost(to).name}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.delays == nil {
		l.delays = map[[2]string]time.Duration{}
	}
	l.delays[key] = d
}

// delayOf is the connection delay from one host to another: Delay's, else the rules
// file's.
func (l *Lab) delayOf(from, to *host) time.Duration {
	key := [2]string{from.name, to.name}
	l.mu.Lock()
	d, ok := l.delays[key]
	l.mu.Unlock()
	if ok {
		return d
	}
	_, delays := l.rules.load()
	return delays[key]
}
