package runbooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/cutover/cutover/probe/lab"
)

// The web side of the simulated Maestro: each component's HTTP server, and the proxy
// of section 23.3. Handlers run in the lab process; they read the simulated host's
// state files to behave as the shell scripts left it.

// maestroWebComponent is what one component's web server answers for.
type maestroWebComponent struct {
	id, ini, title, path string
	port                 int
}

var maestroWeb = []maestroWebComponent{
	{id: "lui", ini: "lui/lui.ini", title: "Maestro User Interface", path: "/lui", port: 80},
	{id: "hub", ini: "hub/hub.ini", title: "Administration Hub", path: "/hub", port: 8080},
	{id: "trk", ini: "trk/tracker.ini", title: "Maestro Tracker", path: "/trk", port: 8888},
}

// maestroEndpoints are the web servers of every component, on every Maestro host:
// components move between hosts, and a server answers only for what is installed there.
func maestroEndpoints() []lab.Endpoint {
	out := make([]lab.Endpoint, 0, len(maestroWeb))
	for _, c := range maestroWeb {
		out = append(out, lab.Endpoint{Name: c.id + "-web", Port: c.port, Handler: componentWeb(c), Listening: c.serves})
	}
	return out
}

// serves says whether the component's web server listens on h: it is installed there
// and the simulated Maestro runs. Otherwise its port refuses connections, as a stopped
// Tomcat's does.
func (c maestroWebComponent) serves(h lab.HostData) bool {
	ini := filepath.FromSlash(c.ini)
	if dir, err := os.ReadFile(filepath.Join(h.Root, "var", "faults", "site-layout")); err == nil {
		// The site-layout situation keeps the component's folder under another one.
		ini = filepath.Join(strings.TrimSpace(string(dir)), ini)
	}
	_, installed := os.Stat(filepath.Join(h.InstallDir, ini))
	_, running := os.Stat(filepath.Join(h.Root, "var", "maestro.running"))
	return installed == nil && running == nil
}

// componentWeb answers as the component's Tomcat would: a page under its path while
// the simulated Maestro runs on the host and the component is installed there, "not
// found" elsewhere. A stopped server's port refuses connections (serves).
func componentWeb(c maestroWebComponent) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := lab.ServingOf(r)
		if s == nil {
			http.Error(w, "not served by the practice lab", http.StatusInternalServerError)
			return
		}
		if !c.serves(s.Host) {
			// Stopped between the connect and the request.
			dropConnection(w)
			return
		}
		w.Header().Set("Server", "Apache-Coyote/1.1 (simulated by the cutover practice lab)")
		if r.URL.Path != c.path && !strings.HasPrefix(r.URL.Path, c.path+"/") {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "no page %s on the %s of %s (simulated)\n", r.URL.Path, c.title, s.Host.Hostname)
			return
		}
		fmt.Fprintf(w, "%s on %s: %s (simulated by the cutover practice lab)\n", c.title, s.Host.Hostname, pageOf(c.id))
	})
}

func pageOf(id string) string {
	switch id {
	case "lui":
		return "sign-in page"
	case "hub":
		return "administration sign-in page"
	}
	return "tracking link recorded"
}

// dropConnection closes the connection without an answer, as a closed port would be
// seen by a client that already connected.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	w.WriteHeader(http.StatusServiceUnavailable)
}

// proxyPorts are the ports the lab's proxy listens on: those of the manual's two
// examples (80 for three names, 9001-9003 for one name split by port).
var proxyPorts = []int{80, 9001, 9002, 9003}

func proxyEndpoints() []lab.Endpoint {
	out := make([]lab.Endpoint, 0, len(proxyPorts))
	for _, p := range proxyPorts {
		out = append(out, lab.Endpoint{Name: fmt.Sprintf("http-%d", p), Port: p, Handler: nginxProxy()})
	}
	return out
}

// nginxActive is where bin/nginx keeps the configuration it loaded (nginx -s reload).
const nginxActive = "var/nginx/active"

// nginxProxy forwards as the configuration bin/nginx loaded says: the server block
// that listens on the port and names the requested host (else the port's first one,
// nginx's default server), then its longest matching location's proxy_pass, connecting
// as the proxy host does in the simulated network. With no server on the port, nothing
// listens there: the connection is dropped. The proxy-misrouted fault sends /hub to
// the first other backend of the configuration.
func nginxProxy() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := lab.ServingOf(r)
		if s == nil {
			http.Error(w, "not served by the practice lab", http.StatusInternalServerError)
			return
		}
		servers, err := loadNginx(filepath.Join(s.Host.Root, filepath.FromSlash(nginxActive)))
		if err != nil {
			dropConnection(w)
			return
		}
		srv := pickServer(servers, s.Port, r.Host)
		if srv == nil {
			dropConnection(w)
			return
		}
		w.Header().Set("Server", "nginx (simulated by the cutover practice lab)")
		loc := srv.location(r.URL.Path)
		if loc == nil {
			http.Error(w, "404 Not Found (nginx: no location)", http.StatusNotFound)
			return
		}
		backend := loc.pass
		if _, err := os.Stat(filepath.Join(s.Host.Root, "var", "faults", "proxy-misrouted")); err == nil && strings.HasPrefix(r.URL.Path, "/hub") {
			backend = otherBackend(servers, backend)
		}
		u, err := url.Parse(backend)
		if err != nil {
			http.Error(w, "502 Bad Gateway (nginx: bad proxy_pass)", http.StatusBadGateway)
			return
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = &http.Transport{DialContext: s.Dial, DisableKeepAlives: true}
		rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "502 Bad Gateway (nginx: upstream "+u.Host+": "+err.Error()+")", http.StatusBadGateway)
		}
		w.Header().Set("X-Lab-Upstream", u.Host)
		rp.ServeHTTP(w, r)
	})
}

// otherBackend is the first proxy_pass of the configuration that is not backend.
func otherBackend(servers []*nginxServer, backend string) string {
	for _, s := range servers {
		for _, l := range s.locations {
			if l.pass != backend {
				return l.pass
			}
		}
	}
	return backend
}

// nginxServer is a server block of the subset bin/nginx and the lab's proxy read.
type nginxServer struct {
	listen    int
	names     []string
	locations []*nginxLocation
}

type nginxLocation struct {
	prefix string
	pass   string
}

func (s *nginxServer) location(p string) *nginxLocation {
	var best *nginxLocation
	for _, l := range s.locations {
		if strings.HasPrefix(p, l.prefix) && (best == nil || len(l.prefix) > len(best.prefix)) {
			best = l
		}
	}
	return best
}

func pickServer(servers []*nginxServer, port int, hostHeader string) *nginxServer {
	host := strings.ToLower(hostHeader)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	var first *nginxServer
	for _, s := range servers {
		if s.listen != port {
			continue
		}
		if first == nil {
			first = s
		}
		for _, n := range s.names {
			if strings.ToLower(n) == host {
				return s
			}
		}
	}
	return first
}

// loadNginx reads every *.conf file of dir, in name order.
func loadNginx(dir string) ([]*nginxServer, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil || len(files) == 0 {
		return nil, errors.New("no configuration loaded")
	}
	sort.Strings(files)
	var out []*nginxServer
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		servers, err := parseNginx(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, servers...)
	}
	return out, nil
}

// nginxDirective is one directive: its words, and its block when it has one.
type nginxDirective struct {
	args  []string
	block []*nginxDirective
}

// parseNginx reads server blocks (at the top, or inside an http block) with listen,
// server_name and location / proxy_pass; other directives are ignored.
func parseNginx(text string) ([]*nginxServer, error) {
	toks := tokenizeNginx(text)
	pos := 0
	top, err := parseNginxBlock(toks, &pos, false)
	if err != nil {
		return nil, err
	}
	var out []*nginxServer
	var walk func(ds []*nginxDirective) error
	walk = func(ds []*nginxDirective) error {
		for _, d := range ds {
			switch d.args[0] {
			case "http":
				if err := walk(d.block); err != nil {
					return err
				}
			case "server":
				s, err := nginxServerOf(d)
				if err != nil {
					return err
				}
				out = append(out, s)
			}
		}
		return nil
	}
	return out, walk(top)
}

func nginxServerOf(d *nginxDirective) (*nginxServer, error) {
	s := &nginxServer{listen: 80}
	for _, x := range d.block {
		switch x.args[0] {
		case "listen":
			if len(x.args) < 2 {
				return nil, errors.New("listen without a port")
			}
			p := x.args[1]
			if i := strings.LastIndexByte(p, ':'); i >= 0 {
				p = p[i+1:]
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("invalid port in listen %q", x.args[1])
			}
			s.listen = n
		case "server_name":
			s.names = append(s.names, x.args[1:]...)
		case "location":
			if len(x.args) < 2 {
				return nil, errors.New("location without a prefix")
			}
			l := &nginxLocation{prefix: x.args[len(x.args)-1]}
			for _, y := range x.block {
				if y.args[0] == "proxy_pass" && len(y.args) == 2 {
					l.pass = y.args[1]
				}
			}
			if l.pass == "" {
				continue
			}
			s.locations = append(s.locations, l)
		}
	}
	if len(s.locations) == 0 {
		return nil, errors.New("a server block forwards nothing (no location with proxy_pass)")
	}
	return s, nil
}

func parseNginxBlock(toks []string, pos *int, inner bool) ([]*nginxDirective, error) {
	var out []*nginxDirective
	var words []string
	for *pos < len(toks) {
		t := toks[*pos]
		*pos++
		switch t {
		case ";":
			if len(words) == 0 {
				return nil, errors.New("unexpected \";\"")
			}
			out = append(out, &nginxDirective{args: words})
			words = nil
		case "{":
			if len(words) == 0 {
				return nil, errors.New("unexpected \"{\"")
			}
			block, err := parseNginxBlock(toks, pos, true)
			if err != nil {
				return nil, err
			}
			out = append(out, &nginxDirective{args: words, block: block})
			words = nil
		case "}":
			if !inner || len(words) > 0 {
				return nil, errors.New("unexpected \"}\"")
			}
			return out, nil
		default:
			words = append(words, t)
		}
	}
	if inner || len(words) > 0 {
		return nil, errors.New("unexpected end of file")
	}
	return out, nil
}

func tokenizeNginx(text string) []string {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	comment := false
	for _, r := range text {
		switch {
		case comment:
			comment = r != '\n'
		case r == '#':
			flush()
			comment = true
		case r == '{' || r == '}' || r == ';':
			flush()
			toks = append(toks, string(r))
		case unicode.IsSpace(r):
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}
