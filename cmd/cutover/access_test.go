//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestImplicitInventoryWritableByOthers: ./cutover.yaml that group or others can
// write is refused (bad input, with the reason) when found by itself, and read when
// named with -i.
func TestImplicitInventoryWritableByOthers(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	if err := os.WriteFile(filepath.Join(dir, "cutover.yaml"), []byte("hosts:\n  me: {local: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "cutover.yaml"), 0o666); err != nil {
		t.Fatal(err)
	}
	wantCode(t, cutover(t, "probe"), 2, "refusing cutover.yaml, found without -i", "group or others can write it (mode 0666)")
	wantCode(t, cutover(t, "probe", "-i", "cutover.yaml"), 0, "me")
}

// TestBecomePasswordLeavesTheEnvironment: CUTOVER_BECOME_PASSWORD is taken out of the
// environment, so commands cutover runs on this machine do not inherit it.
func TestBecomePasswordLeavesTheEnvironment(t *testing.T) {
	t.Setenv(becomePasswordEnv, "hunter2")
	pw := takeBecomePassword()
	if string(pw) != "hunter2" {
		t.Fatalf("took %q", pw)
	}
	if _, ok := os.LookupEnv(becomePasswordEnv); ok {
		t.Error("the password is still in the environment")
	}
}
