//go:build linux

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// floorMain is the bare x/crypto program: connect to every host at once, verify its key
// against known_hosts, log in with one key, run one command, and nothing else (no
// inventory, no keepalives, no SFTP, no parsing). It is the floor a probe of the same
// hosts with the same command is measured against, and its per-phase medians show where
// the time of a connection goes.
//
//	cutover-bench floor -hosts FILE -user U -key FILE -known-hosts FILE -command FILE
//
// FILE of hosts has one "address:port" a line. It prints a JSON summary.
func floorMain(args []string) int {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	hostsFile := fs.String("hosts", "", "file with one host:port a line")
	user := fs.String("user", "", "login name")
	keyFile := fs.String("key", "", "private key")
	known := fs.String("known-hosts", "", "known_hosts file")
	cmdFile := fs.String("command", "", "file holding the command to run")
	_ = fs.Parse(args)
	hostsData, err := os.ReadFile(*hostsFile)
	must(err)
	keyData, err := os.ReadFile(*keyFile)
	must(err)
	cmd, err := os.ReadFile(*cmdFile)
	must(err)
	signer, err := ssh.ParsePrivateKey(keyData)
	must(err)
	check, err := knownhosts.New(*known)
	must(err)
	cfg := &ssh.ClientConfig{
		User:              *user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   check,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           30 * time.Second,
	}
	addrs := strings.Fields(string(hostsData))
	type result struct {
		dial, auth, exec time.Duration
		ok               bool
		err              string
	}
	res := make([]result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			r := &res[i]
			t0 := time.Now()
			conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
			r.dial = time.Since(t0)
			if err != nil {
				r.err = err.Error()
				return
			}
			t1 := time.Now()
			c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
			r.auth = time.Since(t1)
			if err != nil {
				r.err = err.Error()
				return
			}
			client := ssh.NewClient(c, chans, reqs)
			defer client.Close()
			t2 := time.Now()
			s, err := client.NewSession()
			if err == nil {
				var out []byte
				out, err = s.Output(string(cmd))
				r.ok = err == nil && strings.Contains(string(out), " end\n")
			}
			r.exec = time.Since(t2)
			if err != nil {
				r.err = err.Error()
			}
		})
	}
	wg.Wait()
	sum := floorSummary{Hosts: len(addrs)}
	var dial, auth, exec []time.Duration
	for _, r := range res {
		if r.ok {
			sum.OK++
		} else if sum.Error == "" {
			sum.Error = r.err
		}
		dial, auth, exec = append(dial, r.dial), append(auth, r.auth), append(exec, r.exec)
	}
	sum.DialMS, sum.AuthMS, sum.ExecMS = medianMS(dial), medianMS(auth), medianMS(exec)
	sum.DialMaxMS, sum.AuthMaxMS, sum.ExecMaxMS = maxMS(dial), maxMS(auth), maxMS(exec)
	must(json.NewEncoder(os.Stdout).Encode(sum))
	if sum.OK != sum.Hosts {
		return 1
	}
	return 0
}

// floorSummary is what the floor program prints.
type floorSummary struct {
	Hosts     int     `json:"hosts"`
	OK        int     `json:"ok"`
	Error     string  `json:"error,omitempty"`
	DialMS    float64 `json:"dial_ms"`
	AuthMS    float64 `json:"auth_ms"`
	ExecMS    float64 `json:"exec_ms"`
	DialMaxMS float64 `json:"dial_max_ms"`
	AuthMaxMS float64 `json:"auth_max_ms"`
	ExecMaxMS float64 `json:"exec_max_ms"`
}

func medianMS(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2].Microseconds()) / 1000
}

func maxMS(d []time.Duration) float64 {
	var m time.Duration
	for _, x := range d {
		m = max(m, x)
	}
	return float64(m.Microseconds()) / 1000
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "cutover-bench:", err)
		os.Exit(2)
	}
}
