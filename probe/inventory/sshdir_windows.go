package inventory

import (
	"cmp"
	"os"
	"path/filepath"
)

// systemSSHDir is where Windows' OpenSSH keeps its system-wide client files:
// %ProgramData%\ssh.
func systemSSHDir() string {
	return filepath.Join(cmp.Or(os.Getenv("ProgramData"), `C:\ProgramData`), "ssh")
}
