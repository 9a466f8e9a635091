package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/lab/labtest"
)

// TestHeadlessProgressLargeCopy: a large copy in the lab (the Hub's data, with a 48 MiB
// archive planted in it) reports its progress in the --json stream, a tenth of the way
// at a time at least, and none of it reaches the journal.
func TestHeadlessProgressLargeCopy(t *testing.T) {
	labtest.SkipShort(t)
	t.Parallel()
	l := startLab(t)
	big := l.file("hub", "hub/accountreg/archive.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat("account-archive ", 1<<16)) // 1 MiB
	for range 48 {
		f.Write(chunk)
	}
	f.Close()
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--json", "--journal", jpath)
	wantCode(t, r, 0)
	validateStream(t, r.stdout)
	var copies []map[string]any
	for _, rec := range streamRecords(t, r.stdout) {
		if rec["type"] == "progress" && rec["what"] == "copy" {
			copies = append(copies, rec)
		}
	}
	if len(copies) < 5 {
		t.Fatalf("%d copy progress records for a 48 MiB copy, want one a tenth of the way at least:\n%s", len(copies), r.stdout)
	}
	prev := 0.0
	for _, c := range copies {
		done, total := c["bytes_done"].(float64), c["bytes_total"].(float64)
		if c["step"] != "transfer-hub-data" || total < 48<<20 || done < prev || done > total {
			t.Errorf("progress record %v (previous bytes_done %v)", c, prev)
		}
		prev = done
	}
	if strings.Contains(readFile(t, jpath), `"progress"`) {
		t.Error("progress records reached the journal")
	}
}
