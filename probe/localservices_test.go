package probe_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
)

// TestNoLocalServices: a probe told to run no service command on local hosts leaves a
// local host's status commands out (the canary they would create stays absent) and
// says so; without it they run as always.
func TestNoLocalServices(t *testing.T) {
	canary := filepath.Join(t.TempDir(), "ran")
	h := &probe.Host{Name: "me", Local: true, Shell: "sh",
		Services: map[string]probe.Service{"svc": {Start: "true", Stop: "true", Status: "touch " + probe.ShellQuote(canary)}}}
	pool := probe.NewPool(local.Dialer())
	defer pool.Close()

	f := (&probe.Prober{Pool: pool, NoLocalServices: true}).Probe(context.Background(), h)
	if !f.Reachable {
		t.Fatalf("probe failed: %s", f.Error)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Error("a service status command ran on the local host")
	}
	if _, ok := f.Services["svc"]; ok || !slices.ContainsFunc(f.Warnings, func(w string) bool { return strings.Contains(w, "service status not checked") }) {
		t.Errorf("services %v, warnings %v", f.Services, f.Warnings)
	}

	f = (&probe.Prober{Pool: pool}).Probe(context.Background(), h)
	if _, err := os.Stat(canary); err != nil || f.Services["svc"] != "running" {
		t.Errorf("without NoLocalServices the status command did not run: %v, %v", err, f.Services)
	}
}
