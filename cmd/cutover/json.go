package main

import (
	"encoding/json"
	"io"
)

// writeJSON prints v as indented JSON: the one form of every --json that prints a
// document (the event stream prints one object per line instead). Keys are snake_case
// throughout, set by each type's json tags.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
