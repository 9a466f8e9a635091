package headless_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
)

// TestSecondInterruptStopsTheActionAsInterrupted: a first interrupt waits for the
// running action; a second one stops it. The action's result then says the operator
// interrupted it (not that it failed by itself), and the run ends as interrupted and
// resumable (exit 3), even with a run file that would retry a failed action.
func TestSecondInterruptStopsTheActionAsInterrupted(t *testing.T) {
	rb, err := steps.Parse("interrupt.yaml", []byte(`id: test/interrupt
title: Interrupt
system: Test
source: the tests
roles:
  - {id: a, title: the host}
steps:
  - {id: slow, title: A slow action, action: {run: {role: a, command: 'sleep 30'}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := &probe.Host{Name: "h1", Address: "local", InstallDir: dir}
	pool := probe.NewPool(probe.DialerFunc(func(context.Context, *probe.Host) (probe.Transport, error) { return &local.Transport{Dir: dir}, nil }))
	t.Cleanup(func() { pool.Close() })
	plan, err := steps.Prepare(rb, func(string) *probe.Host { return h }, steps.Inputs{Roles: map[string]string{"a": "h1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	soft, stopSoft := context.WithCancel(context.Background())
	hard, stopHard := context.WithCancel(context.Background())
	defer stopHard()
	obs := startedObserver{started: make(chan struct{}, 1)}
	e, err := steps.Start(plan, &memRec{}, steps.Options{Pool: pool, Operator: "op", Hard: hard, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		<-obs.started
		stopSoft() // the first interrupt: the action runs on
		time.Sleep(100 * time.Millisecond)
		stopHard() // the second: the action is stopped
	}()
	retry := &steps.Answerer{Answers: map[string]*steps.Answer{"slow": {Retry: true}}, Via: "runfile"}
	res := headless.Drive(soft, e, retry, "J.jsonl")
	if res.Code != headless.ExitInterrupted || !strings.Contains(res.Message, "cutover resume J.jsonl") {
		t.Fatalf("code %d: %s", res.Code, res.Message)
	}
	ss := e.State().Step("slow")
	if ss.Action == nil || ss.Action.OK || !strings.HasPrefix(ss.Action.Error, "interrupted by the operator while it ran") {
		t.Fatalf("the stopped action's record: %+v", ss.Action)
	}
	if ss.ActionRuns != 1 || len(ss.Decisions) != 0 || e.Finished() {
		t.Errorf("after the interrupt: runs %d, decisions %+v, finished %v: want one run, nothing decided, resumable", ss.ActionRuns, ss.Decisions, e.Finished())
	}
}

// startedObserver signals when an action starts.
type startedObserver struct{ started chan struct{} }

func (o startedObserver) Event(ev *steps.Event) {
	if ev.Type == steps.EvActionStart {
		select {
		case o.started <- struct{}{}:
		default:
		}
	}
}

func (o startedObserver) Progress(steps.Progress) {}
