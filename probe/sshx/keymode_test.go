//go:build !windows

package sshx

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestIdentityFileReadableByOthersIsRefused: a key file of the operator's that group or
// others may read is skipped as OpenSSH skips it, and the failure says why; once it is
// private again it works.
func TestIdentityFileReadableByOthersIsRefused(t *testing.T) {
	t.Parallel()
	f := setup(t)
	key := f.host.IdentityFiles[0]
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(key, mode); err != nil {
			t.Fatal(err)
		}
		_, err := (&Dialer{NoAgent: true}).Dial(context.Background(), f.host)
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "too open") {
			t.Errorf("key mode %04o: %v, want it refused as too open", mode, err)
		}
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	dial(t, nil, f.host)
}
