package lab_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"

	"github.com/cutover/cutover/probe/lab"
)

func TestSFTP(t *testing.T) {
	l := serve(t, t.TempDir(), lab.Options{})
	c, err := sftp.NewClient(dialHost(t, l, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := l.HostRoot("a")

	// Relative paths are relative to the host root; absolute ones are real paths.
	if err := c.Mkdir("notes"); err != nil {
		t.Fatal(err)
	}
	f, err := c.Create("notes/draft.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello sftp")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "notes", "draft.txt")); string(got) != "hello sftp" {
		t.Errorf("written file = %q", got)
	}
	if err := c.PosixRename("notes/draft.txt", filepath.Join(root, "notes", "final.txt")); err != nil {
		t.Fatal(err)
	}
	r, err := c.Open("notes/final.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "hello sftp" {
		t.Errorf("read back %q", got)
	}
	// A plain rename must not replace an existing file; posix-rename does.
	if err := os.WriteFile(filepath.Join(root, "notes", "other.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("notes/final.txt", "notes/other.txt"); err == nil {
		t.Error("rename onto an existing file succeeded")
	}
	if _, err := c.Stat("notes/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat of a missing file: %v, want fs.ErrNotExist", err)
	}

	// A large file: stat, list and a read at the end without reading the rest.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	if err := os.WriteFile(filepath.Join(root, "notes", "big.log"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := c.Stat("notes/big.log"); err != nil || fi.Size() != int64(len(big)) {
		t.Fatalf("stat big.log: %v, %v", fi, err)
	}
	bf, err := c.Open("notes/big.log")
	if err != nil {
		t.Fatal(err)
	}
	tail := make([]byte, 16)
	if n, err := bf.ReadAt(tail, int64(len(big)-16)); n != 16 || (err != nil && err != io.EOF) || string(tail) != "0123456789abcdef" {
		t.Errorf("ReadAt end: %d %q %v", n, tail, err)
	}
	bf.Close()
	entries, err := c.ReadDir("notes")
	if err != nil || len(entries) != 3 {
		t.Errorf("ReadDir notes = %d entries, %v; want 3", len(entries), err)
	}

	for _, p := range []string{"notes/final.txt", "notes/other.txt", "notes/big.log"} {
		if err := c.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RemoveDirectory("notes"); err != nil {
		t.Fatal(err)
	}
	if err := c.Chmod("bin/hello", 0o700); err != nil {
		t.Fatal(err)
	}

	audit, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range audit {
		if e.Kind == "sftp" && e.Host == "a" && e.Error == "" {
			ops = append(ops, e.Op+" "+rel(root, e.Path))
		}
	}
	want := []string{
		"mkdir notes", "open notes/draft.txt", "posix-rename notes/draft.txt",
		"remove notes/final.txt", "remove notes/other.txt", "remove notes/big.log", "rmdir notes", "setstat bin/hello",
	}
	if len(ops) != len(want) {
		t.Fatalf("audited sftp ops:\n%q\nwant\n%q", ops, want)
	}
	for i := range want {
		if ops[i] != want[i] {
			t.Errorf("audit op %d = %q, want %q", i, ops[i], want[i])
		}
	}
	for _, e := range audit {
		if e.Op == "open" && e.Flags != "write,create,trunc" {
			t.Errorf("open flags = %q", e.Flags)
		}
		if e.Op == "rename" && e.Error == "" {
			t.Errorf("rename onto an existing file recorded as success: %+v", e)
		}
	}
}

func rel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}
