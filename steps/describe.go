package steps

import "strings"

// What a list of each part of a runbook holds, in the words lint uses when a part has the
// wrong shape ("roles: expected a list of roles, each with id, title and requires, found
// a mapping"): the keys an author writes first.

// YAMLDescription says what the runbook's roles list holds.
func (Role) YAMLDescription() string { return "roles, each with id, title and requires" }

// YAMLDescription says what a role's requires list holds.
func (Require) YAMLDescription() string {
	return "requirements, each with that (an expression) and because"
}

// YAMLDescription says what the runbook's params list holds.
func (Param) YAMLDescription() string { return "parameters, each with id, title and type" }

// YAMLDescription says what a parameter's reject list holds.
func (Rejection) YAMLDescription() string { return "rejections, each with match and because" }

// YAMLDescription says what the runbook's presets list holds.
func (Preset) YAMLDescription() string { return "presets, each with id, title and params" }

// YAMLDescription says what the runbook's steps list holds.
func (Step) YAMLDescription() string {
	return "steps, each with id, title and text, and what it does: manual, action, gates"
}

// YAMLDescription says what a pre or gates list holds.
func (Check) YAMLDescription() string {
	return "checks, each a mapping with one kind of check (" + strings.Join(checkKinds(), ", ") + ") and optionally name, when and wait"
}

// YAMLDescription says what a step's action holds.
func (Action) YAMLDescription() string {
	return "exactly one of " + strings.Join(actionKinds(), ", ")
}

// YAMLDescription says what a wait holds.
func (Wait) YAMLDescription() string { return "timeout and every, such as {timeout: 5m, every: 5s}" }
