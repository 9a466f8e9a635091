// Package lab is cutover's practice lab: simulated hosts served over real SSH on
// 127.0.0.1, so operators and tests can rehearse runbooks without touching production.
//
// A Scenario (data, defined elsewhere) describes the hosts: their files (shell scripts
// standing in for the vendor software), services, endpoints and faults. Setup lays the
// hosts out under a folder and writes an inventory, known_hosts and a client key that
// cutover uses like any other; Serve answers SSH, SFTP and port forwarding for every
// host. Everything but the vendor software is real: processes, files, SSH and TCP.
package lab

import (
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cutover/cutover/probe"
)

// Scenario is one practice situation: a set of hosts in a given state, the faults that
// can be switched on, and the run files an operator starts from.
type Scenario struct {
	// Name identifies the scenario on the command line ("maestro").
	Name string
	// Title is a one-line summary for listings.
	Title string
	// Description explains what the scenario rehearses.
	Description string
	// Hosts are the simulated machines, in inventory order.
	Hosts []HostSpec
	// Faults can be selected with Options.Faults.
	Faults []Fault
	// Runs are run files written to DIR/runs.
	Runs []RunFile
	// DNS holds extra records of the simulated DNS: name to addresses. Every host's own
	// names resolve to its address without being listed.
	DNS map[string][]string
	// Now is the time the scenario's templates date files from (their now and ago
	// functions); zero means the time Setup runs.
	Now time.Time
}

// HostSpec describes one simulated host.
type HostSpec struct {
	// Name is the inventory name.
	Name string
	// Hostname is what the host calls itself, and the name other hosts reach it by in
	// the simulated network; empty means Name.
	Hostname string
	// InstallDir is the product folder relative to the host root, e.g. "opt/maestro".
	InstallDir string
	// Files are written under the host root when the host is created.
	Files []File
	// Services go to the inventory unchanged.
	Services map[string]probe.Service
	// Vars go to the inventory unchanged.
	Vars map[string]string
	// Groups go to the inventory unchanged.
	Groups []string
	// Endpoints are the TCP services the host offers in the simulated network.
	Endpoints []Endpoint
	// IP is the host's address in the simulated network; empty means 10.77.0.(10+n).
	IP string
	// Sudo, when set, simulates sudo on the host, and the lab's inventory has the host
	// become Sudo.As[0].
	Sudo *Sudo
}

// File is a file on a simulated host.
type File struct {
	// Path is relative to the host root and may not leave it.
	Path string
	// Content is a text/template rendered with TemplateData.
	Content string
	// Mode defaults to 0644; scripts need 0755.
	Mode fs.FileMode
	// Age sets the modification time to now minus Age, for checks that look at how
	// fresh a file is.
	Age time.Duration
}

// Endpoint is a TCP service a simulated host offers, such as its database.
type Endpoint struct {
	// Name identifies the endpoint in TemplateData and Lab.Endpoint.
	Name string
	// Port is the port the service listens on in the simulated network, e.g. 3306; the
	// lab itself listens on a free port of 127.0.0.1.
	Port int
	// Handler answers HTTP; nil makes a plain TCP listener that accepts connections and
	// holds them until the client closes.
	Handler http.Handler
	// Listening, when set, says whether the simulated service listens right now (it
	// reads the host's state files); while it does not, connections to the endpoint
	// through the simulated network are refused, as a stopped server's port refuses them.
	Listening func(HostData) bool
}

// Fault is a problem a scenario can switch on, applied after setup and before serving.
type Fault struct {
	// Name selects the fault in Options.Faults.
	Name string
	// Description says what goes wrong.
	Description string
	// Apply switches the fault on, typically with Lab.SetFlag.
	Apply func(*Lab) error
}

// RunFile is a run file written to DIR/runs/<Runbook with "/" replaced by "-">.yaml.
type RunFile struct {
	// Runbook is the runbook id, e.g. "maestro/move-hub".
	Runbook string
	// Content is a text/template rendered with TemplateData.
	Content string
}

// TemplateData is what file and run file templates see.
type TemplateData struct {
	// Dir is the lab folder, absolute.
	Dir string
	// Scenario is the scenario name.
	Scenario string
	// Hosts maps inventory names to their details.
	Hosts map[string]HostData
	// Now is the scenario's time, which the functions now and ago read.
	Now time.Time
}

// HostData describes one host to templates.
type HostData struct {
	Name       string // inventory name
	Hostname   string // what the host calls itself
	Root       string // absolute host root
	InstallDir string // absolute install folder
	Port       int    // SSH port on 127.0.0.1
	// Endpoints maps endpoint names to the real "127.0.0.1:port" they listen on.
	Endpoints map[string]string
}

// Options control Setup.
type Options struct {
	// Faults are the names of scenario faults to apply, and disruptions written as
	// KIND:HOST:REGEX (see Disruption).
	Faults []string
	// Reset discards an earlier lab in the folder instead of resuming it.
	Reset bool
	// Log receives one line per connection and per command; nil is silent.
	Log io.Writer
}

// Lab is a set up practice lab: its files are on disk and its ports are bound. Serve
// answers connections; Close releases everything.
type Lab struct {
	dir    string
	sc     *Scenario
	hosts  []*host
	byName map[string]*host
	// alias maps inventory names and hostnames to hosts, for the simulated network.
	alias     map[string]*host
	clientKey []byte // wire form of the accepted public key
	audit     *auditLog
	lock      *os.File // the lab folder, locked while the lab runs
	logMu     sync.Mutex
	log       io.Writer

	rules *netRules // the rules file bin/lab-net edits

	disrupt disruptions // armed by Disrupt and by KIND:HOST:REGEX faults

	mu      sync.Mutex
	blocked map[[2]string]bool          // {from, to} pairs partitioned by Block
	delays  map[[2]string]time.Duration // {from, to} pairs slowed by Delay
	link    *linkLimit                  // the operator's link speed (SetOperatorLink), nil when unlimited
	serving bool
	closed  bool
	done    chan struct{} // closed when Close starts; ends Serve
	stopped chan struct{} // closed when Close has finished
	wg      sync.WaitGroup
	servers []*http.Server
	holds   map[net.Conn]struct{} // connections held by plain TCP endpoints
}

// Dir is the lab folder.
func (l *Lab) Dir() string { return l.dir }

// Scenario is the scenario the lab was set up from.
func (l *Lab) Scenario() *Scenario { return l.sc }

// Inventory is the path of the lab's inventory.yaml.
func (l *Lab) Inventory() string { return filepath.Join(l.dir, inventoryFile) }

// KnownHosts is the path of the lab's known_hosts file.
func (l *Lab) KnownHosts() string { return filepath.Join(l.dir, knownHostsFile) }

// ClientKey is the path of the private key the lab accepts.
func (l *Lab) ClientKey() string { return filepath.Join(l.dir, clientKeyFile) }

// HostRoot is the absolute root folder of host name, or "" if there is no such host.
func (l *Lab) HostRoot(name string) string {
	if h := l.byName[name]; h != nil {
		return h.root
	}
	return ""
}

// Port is the SSH port of host name on 127.0.0.1, or 0 if there is no such host.
func (l *Lab) Port(name string) int {
	if h := l.byName[name]; h != nil {
		return h.port
	}
	return 0
}

// Endpoint is the real "127.0.0.1:port" of endpoint name of host, or "" if there is none.
func (l *Lab) Endpoint(host, name string) string {
	if h := l.byName[host]; h != nil {
		for _, e := range h.endpoints {
			if e.spec.Name == name {
				return e.addr
			}
		}
	}
	return ""
}

// logf writes one line to Options.Log.
func (l *Lab) logf(format string, args ...any) {
	if l.log == nil {
		return
	}
	l.logMu.Lock()
	defer l.logMu.Unlock()
	_, _ = fmt.Fprintf(l.log, "lab: "+format+"\n", args...)
}
