package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Prober gathers facts from many hosts at once.
type Prober struct {
	// Pool provides (and keeps) the connections, so a run reuses the probe's.
	Pool *Pool
	// Components is what to look for in install folders; nil means Components(): the
	// shipped declarations and the site's.
	Components []Component
	// Timeout bounds each host's probe, dial included; zero means 20 seconds.
	Timeout time.Duration
	// Parallel caps concurrent probes; zero means no cap.
	Parallel int
	// Now is the operator's clock; nil means time.Now. Tests set it.
	Now func() time.Time
	// NoLocalServices leaves out the service status commands of local hosts (the
	// operator's own machine): a probe nobody asked for, of an inventory nobody named,
	// runs nothing of the inventory's on this machine.
	NoLocalServices bool
}

// ProbeAll probes every host concurrently and returns facts in the hosts' order. An
// unreachable host yields facts with Reachable false and Error set, never an error.
func (p *Prober) ProbeAll(ctx context.Context, hosts []*Host) []*Facts {
	out := make([]*Facts, len(hosts))
	var wg sync.WaitGroup
	var sem chan struct{}
	if p.Parallel > 0 {
		sem = make(chan struct{}, p.Parallel)
	}
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sem != nil {
				sem <- struct{}{}
				defer func() { <-sem }()
			}
			out[i] = p.Probe(ctx, h)
		}()
	}
	wg.Wait()
	Crosscheck(out)
	return out
}

// Probe gathers one host's facts in a single command execution.
func (p *Prober) Probe(ctx context.Context, h *Host) *Facts {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	f := &Facts{Name: h.Name, Address: h.Addr()}
	if h.Local {
		f.Address = "local"
	}
	defer func() { f.ProbedAt = now() }()
	t, err := p.Pool.Get(ctx, h)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	if tm, ok := t.(Timed); ok {
		f.Timing = tm.Timing()
	}
	if id, ok := t.(Identified); ok {
		f.HostKey = id.HostKey()
	}
	comps := p.Components
	if comps == nil {
		comps = Components()
	}
	nonce := newNonce()
	w := &markerWriter{marker: "@@cutover-" + nonce, now: now, watch: "time"}
	t0 := now()
	script := h
	if h.Local && p.NoLocalServices && len(h.Services) > 0 {
		bare := *h
		bare.Services = nil
		script = &bare
		f.Warnings = append(f.Warnings, "service status not checked: a local host of an inventory found without -i runs no inventory command in a background probe")
	}
	code, err := t.Run(ctx, Script(script, comps, nonce), w, io.Discard)
	f.Timing.Exec = now().Sub(t0)
	if err != nil {
		f.Error = fmt.Sprintf("probe command: %v", err)
		return f
	}
	if w.over {
		f.Error = fmt.Sprintf("probe command: its output went past %d MiB, the most cutover reads", maxProbeOutput>>20)
		return f
	}
	if err := parseFacts(f, w.buf.Bytes(), "@@cutover-"+nonce, comps); err != nil {
		f.Error = fmt.Sprintf("probe command (exit %d): %v", code, err)
		return f
	}
	if !w.seen.IsZero() {
		mid := t0.Add(w.seen.Sub(t0) / 2)
		f.ClockOffset = f.remoteTime.Sub(mid)
		f.ClockUncertainty = w.seen.Sub(t0) / 2
	}
	f.Reachable = true
	return f
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// markerWriter buffers output and notes when the watched marker line arrived, which
// dates the host's clock reading more precisely than the end of the command would.
type markerWriter struct {
	marker string
	watch  string
	now    func() time.Time
	buf    bytes.Buffer
	seen   time.Time
	over   bool // output went past maxProbeOutput
}

// maxMarkerFile bounds how much of a component's marker file (its INI settings) the
// probe reads; maxProbeOutput bounds what it keeps of the probe command's output. A host
// whose output goes past it is reported as such, never buffered without end.
const (
	maxMarkerFile  = 1 << 20
	maxProbeOutput = 8 << 20
)

func (w *markerWriter) Write(p []byte) (int, error) {
	n := len(p)
	if room := maxProbeOutput - w.buf.Len(); room < len(p) {
		p, w.over = p[:max(room, 0)], true
	}
	w.buf.Write(p)
	if w.seen.IsZero() && bytes.Contains(w.buf.Bytes(), []byte(w.marker+" "+w.watch+" ")) {
		w.seen = w.now()
	}
	return n, nil
}

// Script is the probe command for h: one POSIX shell (or PowerShell) script that prints
// each fact on a line starting with a marker that includes nonce, so whatever a login
// script prints cannot be mistaken for a fact.
func Script(h *Host, comps []Component, nonce string) string {
	if h.PowerShell() {
		return powerShellScript(h, comps, nonce)
	}
	m := "@@cutover-" + nonce
	var b strings.Builder
	fmt.Fprintf(&b, "M=%s\n", m)
	// The clock first: the reading is dated by when this line reaches us.
	b.WriteString(`printf '%s time %s\n' "$M" "$(date +%s.%N 2>/dev/null || date +%s)"` + "\n")
	b.WriteString(`printf '%s hostname %s\n' "$M" "$(hostname 2>/dev/null || uname -n)"` + "\n")
	b.WriteString(`printf '%s os %s\n' "$M" "$(uname -s 2>/dev/null)"` + "\n")
	b.WriteString(`[ -r /etc/os-release ] && printf '%s os_name %s\n' "$M" "$(. /etc/os-release 2>/dev/null; echo "$PRETTY_NAME")"` + "\n")
	b.WriteString(`printf '%s machine_id %s\n' "$M" "$(cat "${CUTOVER_MACHINE_ID_FILE:-/etc/machine-id}" 2>/dev/null || hostid 2>/dev/null)"` + "\n")
	b.WriteString(`printf '%s addresses %s\n' "$M" "$(hostname -I 2>/dev/null)"` + "\n")
	b.WriteString(`printf '%s timezone %s\n' "$M" "$(date +%Z%z)"` + "\n")
	// Processors and memory through getconf (Linux, Solaris; nproc or sysctl where its
	// getconf lacks the processors' name). Memory is printed as pages and
	// page size and multiplied here: shell arithmetic on an empty answer would end the
	// script.
	b.WriteString(`printf '%s cpus %s\n' "$M" "$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null)"` + "\n")
	b.WriteString(`printf '%s memory %s %s\n' "$M" "$(getconf _PHYS_PAGES 2>/dev/null)" "$(getconf PAGESIZE 2>/dev/null)"` + "\n")
	if h.InstallDir != "" {
		fmt.Fprintf(&b, "D=%s\n", ShellQuote(h.InstallDir))
		for _, c := range comps {
			// Every path is quoted: a site's declarations are data, not shell code. The
			// settings are read through dd (POSIX, unlike head -c), at most maxMarkerFile
			// bytes: a marker file without end must not fill the output.
			var test []string
			for _, f := range c.Files {
				test = append(test, "[ -f \"$D\"/"+ShellQuote(f)+" ]")
			}
			if len(test) > 0 {
				fmt.Fprintf(&b, "if %s; then printf '%%s component %s\\n' \"$M\"; fi\n", strings.Join(test, " && "), c.ID)
			}
			if c.Marker != "" {
				q := ShellQuote(c.Marker)
				cond := strings.Join(append(test, "[ -f \"$D\"/"+q+" ]"), " && ")
				fmt.Fprintf(&b, "if %s; then dd if=\"$D\"/%s bs=65536 count=%d 2>/dev/null | while IFS= read -r l || [ -n \"$l\" ]; do printf '%%s setting %s %%s\\n' \"$M\" \"$l\"; done; fi\n",
					cond, q, maxMarkerFile/65536, c.ID)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(h.Services)) {
		if st := h.Services[name].Status; st != "" {
			fmt.Fprintf(&b, "(%s) >/dev/null 2>&1 </dev/null; printf '%%s service %s %%s\\n' \"$M\" \"$?\"\n", st, name)
		}
	}
	b.WriteString(`printf '%s end\n' "$M"` + "\n")
	return b.String()
}

func powerShellScript(h *Host, comps []Component, nonce string) string {
	m := "@@cutover-" + nonce
	var b strings.Builder
	fmt.Fprintf(&b, "$M='%s'\n", m)
	b.WriteString(`$t=[DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()/1000.0; Write-Output ("$M time " + $t.ToString([Globalization.CultureInfo]::InvariantCulture))` + "\n")
	b.WriteString(`Write-Output "$M hostname $([Net.Dns]::GetHostName())"` + "\n")
	b.WriteString(`Write-Output "$M os windows"` + "\n")
	b.WriteString(`Write-Output "$M os_name $((Get-CimInstance Win32_OperatingSystem -ErrorAction SilentlyContinue).Caption)"` + "\n")
	b.WriteString(`Write-Output "$M machine_id $((Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Cryptography' -ErrorAction SilentlyContinue).MachineGuid)"` + "\n")
	b.WriteString(`Write-Output "$M addresses $((Get-NetIPAddress -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { $_.IPAddress -ne '127.0.0.1' }).IPAddress -join ' ')"` + "\n")
	b.WriteString(`$o=[TimeZoneInfo]::Local.GetUtcOffset([DateTime]::Now); Write-Output ("$M timezone " + [TimeZoneInfo]::Local.Id + $(if($o -lt 0){'-'}else{'+'}) + $o.ToString('hhmm'))` + "\n")
	b.WriteString(`Write-Output "$M cpus $([Environment]::ProcessorCount)"` + "\n")
	b.WriteString(`Write-Output "$M memory $((Get-CimInstance Win32_ComputerSystem -ErrorAction SilentlyContinue).TotalPhysicalMemory) 1"` + "\n")
	if h.InstallDir != "" {
		fmt.Fprintf(&b, "$D=%s\n", PSQuote(h.InstallDir))
		for _, c := range comps {
			var test []string
			for _, f := range c.Files {
				test = append(test, "(Test-Path -LiteralPath (Join-Path $D "+PSQuote(f)+") -PathType Leaf)")
			}
			if len(test) > 0 {
				fmt.Fprintf(&b, "if (%s) { Write-Output \"$M component %s\" }\n", strings.Join(test, " -and "), c.ID)
			}
			if c.Marker != "" {
				cond := strings.Join(append(test, "(Test-Path -LiteralPath $p -PathType Leaf)"), " -and ")
				fmt.Fprintf(&b, "$p=Join-Path $D %s; if (%s) { if ((Get-Item -LiteralPath $p).Length -le %d) { Get-Content -LiteralPath $p | ForEach-Object { Write-Output \"$M setting %s $_\" } } }\n",
					PSQuote(c.Marker), cond, maxMarkerFile, c.ID)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(h.Services)) {
		if st := h.Services[name].Status; st != "" {
			fmt.Fprintf(&b, "$global:LASTEXITCODE=0; try { & { %s } *> $null } catch { $global:LASTEXITCODE=1 }; Write-Output \"$M service %s $LASTEXITCODE\"\n", st, name)
		}
	}
	b.WriteString(`Write-Output "$M end"` + "\n")
	return b.String()
}

// parseFacts reads the marked lines of the probe's output into f.
func parseFacts(f *Facts, out []byte, marker string, comps []Component) error {
	prefix := marker + " "
	ended := false
	settings := map[string][]string{}
	for _, raw := range strings.Split(string(out), "\n") {
		line := strings.TrimRight(raw, "\r")
		i := strings.Index(line, prefix)
		if i < 0 {
			continue
		}
		key, val, _ := strings.Cut(line[i+len(prefix):], " ")
		switch key {
		case "time":
			secs, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err == nil {
				f.remoteTime = time.Unix(0, int64(secs*1e9))
			}
		case "hostname":
			// What a host says about itself reaches other hosts' commands and checks
			// (quoted, as every value): a name of the wrong shape is kept as sent, for
			// the operator to see, and said to be wrong.
			f.Hostname = strings.TrimSpace(val)
			if err := CheckHostName(f.Hostname); f.Hostname != "" && err != nil {
				f.Warnings = append(f.Warnings, fmt.Sprintf("the host reported a name that is not a host name: %v", err))
			}
		case "os":
			f.OS = strings.ToLower(strings.TrimSpace(val))
		case "os_name":
			f.OSName = strings.TrimSpace(val)
		case "machine_id":
			f.MachineID = strings.TrimSpace(val)
		case "timezone":
			f.TimeZone = strings.TrimSpace(val)
		case "cpus":
			if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n > 0 {
				f.CPUs = n
			}
		case "memory":
			f.Memory = memoryBytes(val)
		case "addresses":
			// Addresses are compared with DNS answers and searched for in files: what is
			// not an IP address is left out, and said so.
			for _, a := range strings.Fields(val) {
				if _, err := netip.ParseAddr(a); err != nil {
					f.Warnings = append(f.Warnings, fmt.Sprintf("the host reported an address that is not an IP address, left out: %q", a))
					continue
				}
				f.Addresses = append(f.Addresses, a)
			}
		case "component":
			f.Components = append(f.Components, strings.TrimSpace(val))
		case "setting":
			c, l, _ := strings.Cut(val, " ")
			settings[c] = append(settings[c], l)
		case "service":
			name, code, _ := strings.Cut(val, " ")
			if f.Services == nil {
				f.Services = map[string]string{}
			}
			f.Services[name] = ServiceState(strings.TrimSpace(code))
		case "end":
			ended = true
		}
	}
	if !ended {
		return fmt.Errorf("output ended early (no end marker): %q", tail(out, 200))
	}
	// Components that no file marks are found by their services' state, as the
	// inventory's status commands told it.
	for _, c := range comps {
		if len(c.Files) > 0 || slices.Contains(f.Components, c.ID) {
			continue
		}
		for _, svc := range c.Services {
			if st := f.Services[svc]; st == "running" || st == "stopped" {
				f.Components = append(f.Components, c.ID)
				break
			}
		}
	}
	for _, c := range comps {
		lines, read := settings[c.ID]
		// The script reads the settings of a component its files mark only when they
		// are there; one marked by its services is read whatever they say.
		if !read || len(c.Files) == 0 && !slices.Contains(f.Components, c.ID) {
			continue
		}
		kv, ok := c.settingsOf(lines)
		if !ok {
			// A key the declaration requires is missing: not this component after all.
			f.Components = slices.DeleteFunc(f.Components, func(x string) bool { return x == c.ID })
			continue
		}
		if f.Settings == nil {
			f.Settings = map[string]map[string]string{}
		}
		f.Settings[c.ID] = kv
	}
	sort.Strings(f.Components)
	return nil
}

// ServiceState maps an LSB status exit code to "running", "stopped" or "unknown".
func ServiceState(code string) string {
	switch strings.TrimSpace(code) {
	case "0":
		return "running"
	case "3":
		return "stopped"
	default:
		return "unknown"
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// ShellQuote quotes s as one word for a POSIX shell: as it is when it holds only
// characters no shell treats specially, else in single quotes with each ' written as
// '\”. Every command cutover builds from a value goes through it (or PSQuote). A NUL
// byte cannot be in any command argument: callers refuse such values.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// psQuotes are the characters PowerShell takes for a single quote: the ASCII one and
// the typographic ones (U+2018-U+201B).
var psQuotes = strings.NewReplacer("'", "''", "\u2018", "\u2018\u2018", "\u2019", "\u2019\u2019", "\u201a", "\u201a\u201a", "\u201b", "\u201b\u201b")

// PSQuote quotes s as a PowerShell literal string: single quotes, with every character
// PowerShell reads as a single quote doubled, so nothing in s ends the literal.
func PSQuote(s string) string {
	return "'" + psQuotes.Replace(s) + "'"
}

// Crosscheck adds warnings that only a comparison of hosts can find: an INI file that
// names a Hub or Tracker host where no such component was found.
func Crosscheck(all []*Facts) {
	byName := map[string]*Facts{}
	for _, f := range all {
		if f == nil || !f.Reachable {
			continue
		}
		for _, n := range []string{f.Name, f.Hostname, shortName(f.Hostname)} {
			if n != "" {
				byName[strings.ToLower(n)] = f
			}
		}
	}
	for _, f := range all {
		if f == nil || !f.Reachable {
			continue
		}
		check := func(comp, key, want, title string) {
			file := comp
			for _, c := range Components() {
				if c.ID == comp {
					file = c.Marker
				}
			}
			v := f.Settings[comp][key]
			if v == "" {
				return
			}
			target, ok := byName[strings.ToLower(v)]
			if !ok {
				target = byName[strings.ToLower(shortName(v))]
			}
			if target != nil && !target.Has(want) {
				f.Warnings = append(f.Warnings, fmt.Sprintf("%s in %s names %s, but no %s was found there", key, file, v, title))
			}
		}
		check("lui", "RegistryHubHost", "hub", "Administration Hub")
		check("trk", "RegistryHubHost", "hub", "Administration Hub")
		check("lui", "TrackerHost", "trk", "Maestro Tracker")
	}
}

func shortName(h string) string {
	s, _, _ := strings.Cut(h, ".")
	return s
}

// memoryBytes reads the probe's "PAGES PAGESIZE" (or "BYTES 1") as bytes; 0 when the
// host printed something else or nothing.
func memoryBytes(val string) int64 {
	parts := strings.Fields(val)
	if len(parts) != 2 {
		return 0
	}
	n, err1 := strconv.ParseInt(parts[0], 10, 64)
	size, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || size <= 0 || n > math.MaxInt64/size {
		return 0
	}
	return n * size
}
