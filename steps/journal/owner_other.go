//go:build !unix

package journal

// Exposure has nothing to say where files carry no Unix owner and mode (Windows: the
// journal folder is in the user's profile, which only the user may write).
func Exposure(path string) []string { return nil }
