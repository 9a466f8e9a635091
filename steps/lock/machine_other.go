//go:build !windows && !darwin

package lock

import (
	"os"
	"strings"
)

// machineID is this machine's identity from /etc/machine-id (systemd) or
// /var/lib/dbus/machine-id, or "" where neither exists.
func machineID() string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(p); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	return ""
}
