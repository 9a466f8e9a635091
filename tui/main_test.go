package tui

import (
	"fmt"
	"os"
	"testing"

	"github.com/cutover/cutover/runbooks"
)

// TestMain checks, after the tests, that the shipped runbooks every wizard of this
// process shared are still as they were read.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := runbooks.Unchanged(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
