// Package labtest serves practice labs for tests, so that every test package sets up,
// serves and stops one the same way. Only tests import it.
package labtest

import (
	"context"
	"sync"
	"testing"

	"github.com/cutover/cutover/probe/lab"
)

// SkipShort skips an end-to-end test in a -short run: a test that serves a practice lab
// over real SSH, or builds and drives the program, takes seconds where a unit test takes
// milliseconds. make test runs them all; make test-short is the quick edit-test loop.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end (a practice lab over real SSH, or the built program): make test runs it, -short does not")
	}
}

// Serve sets up sc in a temporary folder of t and serves it until the test ends; see
// ServeIn.
func Serve(t testing.TB, sc *lab.Scenario, opts lab.Options) *lab.Lab {
	t.Helper()
	return ServeIn(t, t.TempDir(), sc, opts)
}

// ServeIn sets up sc in dir and serves it until the test ends; an error from serving
// fails the test.
func ServeIn(t testing.TB, dir string, sc *lab.Scenario, opts lab.Options) *lab.Lab {
	t.Helper()
	l, _ := serve(t, dir, sc, opts)
	return l
}

// ServeStoppable is Serve with a function that stops the lab before the test ends (every
// host then refuses connections); stopping again does nothing.
func ServeStoppable(t testing.TB, sc *lab.Scenario, opts lab.Options) (*lab.Lab, func()) {
	t.Helper()
	return serve(t, t.TempDir(), sc, opts)
}

func serve(t testing.TB, dir string, sc *lab.Scenario, opts lab.Options) (*lab.Lab, func()) {
	t.Helper()
	SkipShort(t)
	l, err := lab.Setup(dir, sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx) }()
	// Stopping cancels Serve's context rather than closing the lab: a lab closed before
	// Serve began would make Serve fail.
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("lab: %v", err)
		}
	})
	t.Cleanup(stop)
	return l, stop
}
