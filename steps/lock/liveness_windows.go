package lock

import (
	"errors"

	"golang.org/x/sys/windows"
)

// stillActive is the exit code Windows reports for a process that has not ended
// (STILL_ACTIVE).
const stillActive = 259

// processAlive reports whether pid runs on this machine. A process that cannot be
// opened for lack of rights exists (it belongs to someone else); one that cannot be
// opened otherwise is gone, as is one that has an exit code.
func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true // it exists; whether it still runs cannot be told, so it may
	}
	return code == stillActive
}
