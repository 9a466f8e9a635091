package probe

import "strings"

// Slug is a runbook id (maestro/move-hub) as the start of a file name
// (maestro-move-hub): its run file in a lab or a runs folder, its journals. Every
// place that names such a file calls it, so the names always agree.
func Slug(runbookID string) string {
	return strings.ReplaceAll(runbookID, "/", "-")
}
