package inventory

import "testing"

// SetSystemSSHConfig points the system-wide ssh_config at path until the test ends.
func SetSystemSSHConfig(t *testing.T, path string) {
	t.Helper()
	old := systemSSHConfig
	systemSSHConfig = path
	t.Cleanup(func() { systemSSHConfig = old })
}
