package steps

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fileInfo is a file as a host's listing shows it.
type fileInfo struct {
	name string
	size int64
	mod  time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return 0o644 }
func (f fileInfo) ModTime() time.Time { return f.mod }
func (f fileInfo) IsDir() bool        { return false }
func (f fileInfo) Sys() any           { return nil }

// TestNewestReadVerdict judges reads of a newest file without a host: every way the
// gate can come out, from what fetch brought back.
func TestNewestReadVerdict(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)
	log := fileInfo{name: "backup-0501.log", size: 120, mod: t0}
	judge := &logJudge{
		want: []*regexp.Regexp{regexp.MustCompile(`completed`)}, wantSrc: []string{"completed"},
		unwanted: []*regexp.Regexp{regexp.MustCompile(`ERROR`)}, unwantedSrc: []string{"ERROR"},
	}
	read := func(data string, mutate ...func(*newestRead)) newestRead {
		rd := newestRead{host: "hub", dir: "/opt/hub/logs", pattern: "backup-*.log", file: log, data: []byte(data)}
		for _, m := range mutate {
			m(&rd)
		}
		return rd
	}
	many := strings.Repeat("ERROR disk\n", 25)
	for _, c := range []struct {
		name     string
		rd       newestRead
		status   Status
		final    bool
		summary  string
		evidence []string
	}{
		{"no folder", read("", func(r *newestRead) { r.noFolder, r.file = true, nil }), Fail, false,
			"folder /opt/hub/logs does not exist on hub", []string{"hub:/opt/hub/logs: no such folder"}},
		{"no file", read("", func(r *newestRead) { r.file = nil }), Fail, false,
			"no file matching backup-*.log in /opt/hub/logs on hub", []string{"hub:/opt/hub/logs/backup-*.log: no match"}},
		{"too old", read("", func(r *newestRead) { r.threshold = t0.Add(time.Hour) }), Fail, false,
			"newest backup-0501.log on hub is from 2024-05-01 02:00:00Z, older than 2024-05-01 03:00:00Z",
			[]string{"needed: modified after 2024-05-01 03:00:00Z (host clock)"}},
		{"passes", read("started\nbackup completed\n"), Pass, false,
			"backup-0501.log on hub (2024-05-01 02:00:00Z) has the expected lines and no unwanted ones",
			[]string{"hub:/opt/hub/logs/backup-0501.log (modified 2024-05-01 02:00:00Z, 120 bytes; read bytes 0-25)", "line 2: backup completed"}},
		{"appended lines are numbered as new", read("backup completed\n", func(r *newestRead) { r.start = 100 }), Pass, false,
			"has the expected lines", []string{"new line 1: backup completed"}},
		{"a wanted line is missing", read("started\n"), Fail, false,
			"backup-0501.log on hub: no line matches /completed/", nil},
		{"an unwanted line is final", read("ERROR disk full\nbackup completed\n"), Fail, true,
			"1 line matches /ERROR/", []string{"line 1: ERROR disk full", "line 2: backup completed"}},
		{"unwanted lines are quoted up to 20", read(many + "completed\n"), Fail, true,
			"25 lines match /ERROR/", []string{"line 20: ERROR disk", "... 5 more unwanted lines"}},
		{"quoted lines are redacted", read("completed with s3cret\n"), Pass, false,
			"", []string{"line 1: completed with ***"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.rd.verdict(judge, func(s string) string { return strings.ReplaceAll(s, "s3cret", "***") })
			if r.Status != c.status || r.Final != c.final || !strings.Contains(r.Summary, c.summary) {
				t.Errorf("%s (final %t): %s; want %s (final %t): %s", r.Status, r.Final, r.Summary, c.status, c.final, c.summary)
			}
			for _, e := range c.evidence {
				found := false
				for _, got := range r.Evidence {
					found = found || got == e
				}
				if !found {
					t.Errorf("evidence lacks %q:\n%s", e, strings.Join(r.Evidence, "\n"))
				}
			}
			if len(r.Hosts) != 1 || r.Hosts[0] != "hub" {
				t.Errorf("hosts %v", r.Hosts)
			}
		})
	}
}
