package steps

import (
	"fmt"
	"time"
)

// Plural counts n things in words: "1 attempt", "3 attempts". Summaries, evidence and
// the export all count this way.
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Stamp writes a moment as evidence, summaries and the exported checklist show it: in
// UTC, to the second ("2024-05-01 10:00:00Z"), so times from hosts in several zones
// and the operator's compare at a glance; "?" when the moment is unknown.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
