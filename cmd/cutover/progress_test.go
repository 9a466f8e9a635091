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
// at a time at least, and none of it reaches the journal. The bulk of it travels in the
// pre-seed (preseed-hub-data), host to host with a one-copy key, before the outage; the
// window's copy (transfer-hub-data) then has only what changed to send.
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
	copies := map[string][]map[string]any{}
	for _, rec := range streamRecords(t, r.stdout) {
		if rec["type"] == "progress" && rec["what"] == "copy" {
			step, _ := rec["step"].(string)
			copies[step] = append(copies[step], rec)
		}
	}
	// How many records a copy gets depends on how fast the lab moves 48 MiB (the
	// printer's one-per-tenth rule is tested with a clock of its own in steps/headless);
	// what does not: records come while the copy is under way, not only once it is done,
	// each at a later tenth than the one before (or 5 s later), and the last says all of
	// it arrived.
	if pre := copies["preseed-hub-data"]; len(pre) < 2 || pre[0]["bytes_done"].(float64) >= pre[0]["bytes_total"].(float64) {
		t.Fatalf("the 48 MiB pre-seed reported no progress while it was under way (%d records):\n%s", len(pre), r.stdout)
	}
	for step, recs := range copies {
		if step != "preseed-hub-data" && step != "transfer-hub-data" {
			t.Errorf("copy progress of step %s, which copies nothing: %v", step, recs)
		}
		prevDone, prevTenth, prevMS := 0.0, -1.0, 0.0
		for _, c := range recs {
			done, total, ms := c["bytes_done"].(float64), c["bytes_total"].(float64), c["elapsed_ms"].(float64)
			tenth := float64(int64(done) * 10 / int64(total))
			if total < 48<<20 || done < prevDone || done > total || tenth <= prevTenth && ms-prevMS < 5000 {
				t.Errorf("progress record %v after bytes_done %v at %v ms", c, prevDone, prevMS)
			}
			prevDone, prevTenth, prevMS = done, tenth, ms
		}
		if last := recs[len(recs)-1]; step == "preseed-hub-data" && last["bytes_done"] != last["bytes_total"] {
			t.Errorf("the pre-seed's last progress record is not at its end: %v", last)
		}
	}
	if !strings.Contains(r.stdout, "direct from hub to spare: one-copy key") {
		t.Errorf("the pre-seed did not go host to host, which this test means to watch:\n%s", r.stdout)
	}
	if strings.Contains(readFile(t, jpath), `"progress"`) {
		t.Error("progress records reached the journal")
	}
}
