package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEnvironmentDocumented: every environment variable the program's code reads is
// in cutover help environment, and every one there is in the README.
func TestEnvironmentDocumented(t *testing.T) {
	t.Parallel()
	reads := regexp.MustCompile(`(?i)(?:getenv|lookupenv)\("([A-Za-z_][A-Za-z0-9_]*)"\)`)
	root := filepath.Join("..", "..")
	found := map[string]string{}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "cutover-bench" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range reads.FindAllStringSubmatch(string(b), -1) {
			found[m[1]] = path
		}
		return nil
	})
	found[paramEnvPrefix+"<KEY>"] = "cmd/cutover/secrets.go"
	found[becomePasswordEnv] = "cmd/cutover/become.go"
	if len(found) < 8 {
		t.Fatalf("found only %v: the scan is broken", found)
	}
	r := cutover(t, "help", "environment")
	wantCode(t, r, 0)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name, where := range found {
		if !strings.Contains(r.stdout, name) {
			t.Errorf("%s (read in %s) is not in cutover help environment", name, where)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^  ([A-Z][A-Za-z_<>]+)`).FindAllStringSubmatch(environmentHelp, -1) {
		if !strings.Contains(string(readme), "`"+m[1]+"`") {
			t.Errorf("%s is not in the README's table of environment variables", m[1])
		}
	}
}
