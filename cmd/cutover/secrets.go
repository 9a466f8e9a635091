package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/cutover/cutover/steps"
)

// paramEnvPrefix starts the environment variables that give parameters. cutover reads
// them once at start and removes them from its own environment, so no command it runs
// here inherits them.
const paramEnvPrefix = steps.ParamEnvPrefix

// takeParamEnv reads the CUTOVER_PARAM_* variables and removes them from the
// environment; the keys are what follows the prefix, as written.
func takeParamEnv() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, paramEnvPrefix); ok && name != "" {
			out[name] = v
			_ = os.Unsetenv(k)
		}
	}
	return out
}

// secretFlags are the ways to give a parameter on the command line besides --set:
// --set-file KEY=PATH reads the value from a file (a secret stays out of ps and the
// shell's history).
type secretFlags struct {
	files pairs
}

func (sf *secretFlags) register(fs *pflag.FlagSet) {
	sf.files = pairs{}
	fs.Var(sf.files, "set-file", "set a parameter to the content of a file: KEY=PATH (one trailing newline dropped; repeatable); for secrets, instead of --set")
}

// read adds the values of the --set-file files to params; a file that cannot be read
// is bad input, named with its key.
func (sf *secretFlags) read(params pairs) error {
	for _, k := range slices.Sorted(maps.Keys(sf.files)) {
		path := sf.files[k]
		b, err := os.ReadFile(path)
		if err != nil {
			return bad("--set-file %s=%s: %v", k, path, err)
		}
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
		if _, dup := params[k]; dup {
			return bad("parameter %s is given by both --set and --set-file: give it once", k)
		}
		params[k] = string(b)
	}
	return nil
}

// warnVisibleSecrets says, for each secret given with --set, that other users of this
// machine can read it (ps, /proc) and the shell's history keeps it.
func warnVisibleSecrets(e *env, set pairs, secret func(id string) bool) {
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if secret(k) {
			fmt.Fprintf(e.stderr, "cutover: warning: --set %s puts a secret on the command line, where other users of this machine can read it (ps) and your shell history keeps it; "+
				"give it with --set-file %s=FILE or %s instead, or leave it out to be asked for it\n", k, k, steps.ParamEnvName(k))
		}
	}
}

// completeParams finishes a new run's parameters (run and plan) once the runbook is
// known: it warns of each secret --set put on the command line (setOnly), and adds the
// CUTOVER_PARAM_* values of parameters the flags did not give (flagParams); those
// replace a run file's value, as a flag does.
func (e *env) completeParams(rb *steps.Runbook, in *steps.Inputs, flagParams, setOnly pairs) {
	warnVisibleSecrets(e, setOnly, func(id string) bool { p := rb.Param(id); return p != nil && p.Secret })
	given := func(id string) bool { _, ok := flagParams[id]; return ok }
	for k, v := range e.envParams(paramIDs(rb), given) {
		in.Params[k] = v
	}
}

// envParams are the parameters ids that CUTOVER_PARAM_* variables give, for those
// not in given already.
func (e *env) envParams(ids []string, given func(id string) bool) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if given(id) {
			continue
		}
		if v, ok := e.paramEnv[strings.TrimPrefix(steps.ParamEnvName(id), paramEnvPrefix)]; ok {
			out[id] = v
		}
	}
	return out
}

// promptSecrets asks on the terminal, with echo off, for each of the secret
// parameters ids that has no value yet; without a terminal it asks nothing (the run
// then says which parameter is missing and how to give it).
func (e *env) promptSecrets(rb *steps.Runbook, ids []string, have func(id string) bool) map[string]string {
	out := map[string]string{}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return out
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := rb.Param(id)
		if have(id) || p != nil && (p.Default != nil || p.Optional) {
			continue
		}
		title := id
		if p != nil && p.Title != "" {
			title = fmt.Sprintf("%s (%s)", p.Title, id)
		}
		fmt.Fprintf(e.stderr, "%s (secret, not shown): ", title)
		v, err := term.ReadPassword(fd)
		fmt.Fprintln(e.stderr)
		if err != nil {
			return out
		}
		out[id] = string(v)
	}
	return out
}

// recordedSecrets completes the secrets of a recorded run (resume, replay): given with
// --set (warned about) and --set-file (setOnly is what --set gave), then
// CUTOVER_PARAM_*, then asked for on a terminal when headless.
func (e *env) recordedSecrets(rb *steps.Runbook, recorded []string, secrets, setOnly pairs, headless bool) {
	warnVisibleSecrets(e, setOnly, func(string) bool { return true })
	has := func(id string) bool { _, ok := secrets[id]; return ok }
	for k, v := range e.envParams(recorded, has) {
		secrets[k] = v
	}
	if headless {
		for k, v := range e.promptSecrets(rb, recorded, has) {
			secrets[k] = v
		}
	}
}

// secretIDs lists the secret parameters of rb.
func secretIDs(rb *steps.Runbook) []string {
	var out []string
	for _, p := range rb.Params {
		if p.Secret {
			out = append(out, p.ID)
		}
	}
	return out
}

// paramIDs lists the parameters of rb.
func paramIDs(rb *steps.Runbook) []string {
	out := make([]string, 0, len(rb.Params))
	for _, p := range rb.Params {
		out = append(out, p.ID)
	}
	return out
}
