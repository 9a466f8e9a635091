package steps

import (
	"context"
	"testing"
	"time"
)

func calibrateGate(t *testing.T, x *stepExec, i int) (CheckResult, history) {
	t.Helper()
	return x.step.Gates[i].Spec.(calibrator).calibrate(context.Background(), x)
}

// TestCalibration covers what the preflight says of a gate's wording on a host: seen,
// seen only beside lines the gate refuses, never seen (with the lines found), a file
// name never seen (with the files found), an INI key never seen, and a history read on
// another role's host.
func TestCalibration(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	for i, content := range []string{"Startup complete\n", "ERROR x\nStartup complete\n", "Started in 3 s\n"} {
		name := []string{"logs/LUI-1.LOG", "logs/LUI-2.LOG", "logs/LUI-3.LOG"}[i]
		f.write("h2", name, content)
		f.chtime("h2", name, now.Add(-time.Duration(3-i)*time.Hour))
	}
	f.write("h2", "logs/other.txt", "x\n")
	f.write("h2", "app/settings.ini", "DatabaseServer=db\nDatabaseName=lm\n")
	rb := testRunbook(t, `  - id: s
    title: calibrated gates
    gates:
      - newest_file: {role: a, path: logs/LUI-*.LOG, contains: ['(?i)startup complete'], not_contains: ['\bERROR\b'], calibrate: {because: ours, role: b}}
      - newest_file: {role: b, path: logs/LUI-*.LOG, contains: ['(?i)startup complete'], not_contains: ['\bERROR\b', 'complete'], calibrate: {because: ours}}
      - newest_file: {role: b, path: logs/LUI-*.LOG, contains: ['(?i)started successfully'], calibrate: {because: ours, files: 2}}
      - newest_file: {role: b, path: logs/STARTUP-*.LOG, contains: [x], calibrate: {because: ours}}
      - newest_file: {role: b, path: nowhere/*.LOG, calibrate: {because: ours}}
      - ini: {role: b, file: app/settings.ini, key: DatabaseType, matches: '(?i)^(mssql|oracle)$', calibrate: {because: ours}}
      - ini: {role: b, file: app/settings.ini, key: DatabaseServer, equals: db, calibrate: {because: ours}}
`)
	x := f.exec(rb, "s", nil, nil)

	r, h := calibrateGate(t, x, 0)
	wantStatus(t, r, Pass, "/(?i)startup complete/ seen in 1 of 3 earlier logs on h2 (newest LUI-1.LOG")
	if h.Seen != 1 || h.Read != 3 || h.Newest != "h2:"+f.path("h2", "logs/LUI-1.LOG") {
		t.Errorf("history %+v", h)
	}
	evidenceHas(t, r, "LUI-1.LOG line 1: Startup complete")

	r, _ = calibrateGate(t, x, 1)
	wantStatus(t, r, Fail, "seen in 2 earlier logs on h2, but each of them also has a line the gate refuses")
	evidenceHas(t, r, "LUI-2.LOG line 1: ERROR x")

	r, h = calibrateGate(t, x, 2)
	wantStatus(t, r, Fail, "/(?i)started successfully/ never seen on h2: none of the 2 newest files matching LUI-*.LOG")
	evidenceHas(t, r, "LUI-3.LOG line 1: Started in 3 s")
	if h.Read != 2 {
		t.Errorf("calibrate.files: read %d files, want 2", h.Read)
	}

	r, _ = calibrateGate(t, x, 3)
	wantStatus(t, r, Fail, "no earlier file matching STARTUP-*.LOG", "the gate's file name was never seen there")
	evidenceHas(t, r, "LUI-3.LOG (modified")
	evidenceHas(t, r, "other.txt (modified")

	r, _ = calibrateGate(t, x, 4)
	wantStatus(t, r, Fail, "does not exist on h2: the gate's log folder was never seen there")

	r, _ = calibrateGate(t, x, 5)
	wantStatus(t, r, Fail, "DatabaseType was never seen in", "the file has 2 other keys")
	evidenceHas(t, r, "DatabaseName")

	r, h = calibrateGate(t, x, 6)
	wantStatus(t, r, Pass, "DatabaseServer is set in")
	if h.Seen != 1 {
		t.Errorf("history %+v", h)
	}
}

func TestCalibrationRefusesIncompleteDeclarations(t *testing.T) {
	for _, gate := range []string{
		"newest_file: {role: a, path: logs/x, calibrate: {}}",
		"newest_file: {role: a, path: logs/x, calibrate: {because: x, role: nobody}}",
		"ini: {role: a, file: x.ini, key: K, absent: true, calibrate: {because: x, files: 3}}",
		"ini: {role: a, file: x.ini, key: K, absent: true, matches: x}",
	} {
		if _, err := Parse("x.yaml", []byte(testRunbookText("  - id: s\n    title: s\n    gates:\n      - "+gate+"\n"))); err == nil {
			t.Errorf("accepted %s", gate)
		}
	}
}
