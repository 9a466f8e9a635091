package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/cutover/cutover/runbooks"
)

// TestMain keeps the tests away from the user's SSH agent and journal folder: every
// key comes from the lab's inventory and every journal goes to a temporary folder.
// After the tests, the shipped runbooks every in-process command shared must still be
// as they were read.
func TestMain(m *testing.M) {
	os.Unsetenv("SSH_AUTH_SOCK")
	dir, err := os.MkdirTemp("", "cutover-test-journals-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("CUTOVER_JOURNALS", dir)
	code := m.Run()
	if err := runbooks.Unchanged(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(dir)
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}
