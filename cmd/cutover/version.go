package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Stamped by the build (make build, make dist):
//
//	go build -ldflags "-X main.buildVersion=v1.2.0 -X main.buildCommit=abc123 -X main.buildDate=2026-01-02T03:04:05Z"
//
// A plain go build or go install leaves them empty, and buildInfo fills them from what
// the Go toolchain recorded (the module version, the VCS revision and its time).
var (
	buildVersion string
	buildCommit  string
	buildDate    string
)

// versionInfo is what cutover --version and cutover version report.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"build_date"`
	GoVersion string `json:"go_version"`
}

// buildInfo is the version of this binary: the stamped values, each one that was not
// stamped taken from bi (the toolchain's record, when there is one), else "unknown"
// ("dev" for the version).
func buildInfo(bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: buildVersion, Commit: buildCommit, BuildDate: buildDate, GoVersion: runtime.Version()}
	if bi != nil {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.time":
				if v.BuildDate == "" {
					v.BuildDate = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && buildCommit == "" && v.Commit != "" {
			v.Commit += "-dirty"
		}
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.BuildDate == "" {
		v.BuildDate = "unknown"
	}
	return v
}

// currentVersion is buildInfo of the running binary.
func currentVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return buildInfo(bi)
}

// version is the version alone, as journals and the wizard record it.
func version() string { return currentVersion().Version }

// versionLine is the one line both cutover --version and cutover version print after
// the program's name.
func versionLine() string {
	v := currentVersion()
	return fmt.Sprintf("%s (commit %s, built %s, %s)", v.Version, v.Commit, v.BuildDate, v.GoVersion)
}

func newVersionCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print the version, commit, build date and Go version",
		Example: `  cutover version
  cutover version --json
  cutover --version`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if asJSON {
				return writeJSON(e.stdout, currentVersion())
			}
			fmt.Fprintln(e.stdout, "cutover", versionLine())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}
