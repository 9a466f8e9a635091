package steps

// What every key of the runbook format means, by Go type and key: the JSON Schema's
// descriptions and the reference (REFERENCE.md) are generated from these, and a test
// fails when a key of the model has none, so the documentation cannot fall behind the
// format.

// fieldDocs describes each key, by "TypeName.key".
var fieldDocs = map[string]string{
	"Runbook.id":      "the runbook's id, SYSTEM/NAME (maestro/move-hub); a site's runbook lives at SYSTEM/NAME.yaml in its folder",
	"Runbook.title":   "what the runbook does, in one line",
	"Runbook.system":  "the product it works on, as operators know it (LISTSERV Maestro)",
	"Runbook.source":  "the document or procedure it follows, so a reviewer can compare",
	"Runbook.summary": "Markdown shown before the plan; a template over roles and params",
	"Runbook.roles":   "the hosts the runbook touches, each bound to an inventory host when it runs",
	"Runbook.params":  "the inputs the operator gives (or the run file, or --set)",
	"Runbook.presets": "named sets of parameter values, such as the worked examples of a manual",
	"Runbook.steps":   "what is done, in order",

	"Role.id":          "the name steps and expressions use (roles.ID)",
	"Role.title":       "what the host is, in the operator's words",
	"Role.requires":    "conditions on the host's probe facts that must hold before anything runs",
	"Role.may_be_down": "the host may be unreachable when the run starts (the failed primary of a failover)",

	"Require.that":    "an expression over role (this host's facts), roles and params that must be true",
	"Require.because": "what is wrong when it is false, shown to the operator",

	"Param.id":       "the name expressions use (params.ID)",
	"Param.title":    "the question the operator answers",
	"Param.help":     "more words shown beside the question",
	"Param.type":     "the kind of value: it is checked, and quoted, accordingly",
	"Param.choices":  "the values a choice parameter accepts",
	"Param.default":  "the value when none is given; a template, so it may read roles' facts",
	"Param.optional": "an empty value is allowed",
	"Param.secret":   "never journaled, exported or shown after entry",
	"Param.pattern":  "a regular expression the whole value must match",
	"Param.reject":   "values refused, each with the reason",

	"Rejection.match":   "a regular expression; a value it matches is refused",
	"Rejection.because": "why such a value is refused",

	"Preset.id":     "the name --preset and the wizard use",
	"Preset.title":  "what the preset is, such as the manual's first example",
	"Preset.params": "parameter values, by parameter id",

	"Step.id":          "the step's name in journals, run files and --step",
	"Step.title":       "what the step does, in one line",
	"Step.text":        "Markdown for the operator: what to do and why; a template",
	"Step.when":        "an expression; the step is skipped when it is false",
	"Step.skip_reason": "why the step is skipped when its condition is false (else the condition is shown)",
	"Step.manual":      "the operator does the step (or a run file's answer does it) and confirms it",
	"Step.optional":    "the operator may skip the step, with a reason",
	"Step.confirm":     "ask the operator before the action runs",
	"Step.back_out":    "Markdown for the back-out plan: how to undo this step by hand where cutover cannot (the export lists it, newest step first)",
	"Step.phrase":      "a phrase the operator must type to confirm a step that cannot be undone; a template",
	"Step.pre":         "checks that must pass before the step's action (or its confirmation)",
	"Step.action":      "what the step does by itself; at most one",
	"Step.gates":       "checks that must pass before the step counts as done",

	"Wait.timeout": "how long a gate may wait to pass",
	"Wait.every":   "how often it is checked again meanwhile",

	"CopyPath.src":    "the path on the source host, relative to its install folder or absolute",
	"CopyPath.dst":    "the path on the target host (default: the same as src)",
	"CopyPath.expect": "what an existing target may hold to be replaced: a fresh installation's files (install) or only an earlier copy of the source (absent)",
	"CopyPath.marker": "a file whose presence inside the existing target makes it expected",

	"AssertCheck.that": "an expression over params, roles and step that must be true",
	"AssertCheck.pass": "the evidence shown when it is true; a template",
	"AssertCheck.fail": "the evidence shown when it is false; a template",

	"ClockCheck.roles":         "the hosts whose clocks are compared",
	"ClockCheck.max_skew":      "the largest difference allowed between any two clocks",
	"ClockCheck.same_timezone": "the hosts must also be set to the same time zone",

	"CommandCheck.role":                "the host the command runs on",
	"CommandCheck.run":                 "the command, for a POSIX shell; values are quoted for it",
	"CommandCheck.powershell":          "the command for a PowerShell host",
	"CommandCheck.exit":                "the exit status that passes (default 0)",
	"CommandCheck.output_contains":     "regular expressions the output must match, each",
	"CommandCheck.output_not_contains": "regular expressions the output must not match",
	"CommandCheck.timeout":             "how long the command may run",

	"DistinctMachinesCheck.roles": "hosts that must be different machines (machine ids differ)",

	"HardwareCheck.roles": "hosts whose processors and memory are compared",

	"DNSCheck.from":            "the host that looks the name up; operator looks it up here",
	"DNSCheck.name":            "the name to resolve",
	"DNSCheck.resolves_to":     "the addresses (one of which) it must resolve to; a template, a list or one address",
	"DNSCheck.not_resolves_to": "addresses it must no longer resolve to",
	"DNSCheck.count":           "how many addresses it must resolve to",

	"FactsCheck.roles":   "the hosts whose facts are judged",
	"FactsCheck.that":    "an expression over roles and params that must be true",
	"FactsCheck.because": "what is wrong when it is false",

	"FileCheck.role": "the host the file is on",
	"FileCheck.path": "the path, relative to the install folder or absolute; a template",
	"FileCheck.type": "what the path must be",

	"FileAgeCheck.role":     "the host the file is on",
	"FileAgeCheck.path":     "the file",
	"FileAgeCheck.max_age":  "how old its last change may be; a duration or a template giving one",
	"FileAgeCheck.contains": "regular expressions its content must match",

	"HTTPCheck.from":     "the host the request is made from; operator makes it from here",
	"HTTPCheck.url":      "the URL; a template",
	"HTTPCheck.status":   "the status codes that pass (default 200-399)",
	"HTTPCheck.contains": "regular expressions the body must match",
	"HTTPCheck.timeout":  "how long the request may take",

	"INICheck.role":        "the host the file is on",
	"INICheck.file":        "the INI file, relative to the install folder or absolute",
	"INICheck.section":     "the section of the key (none: before any section)",
	"INICheck.key":         "the key",
	"INICheck.equals":      "the value it must have; a template",
	"INICheck.absent":      "the key must not be set",
	"INICheck.ignore_case": "compare the value without regard to case",
	"INICheck.format":      "the file's dialect",
	"INICheck.matches":     "a regular expression the whole value must match",
	"INICheck.calibrate":   "check the assumption against the host's own history in the preflight",

	"Calibration.because": "what the assumption is, said to the operator when the history disagrees",
	"Calibration.role":    "the host whose history is read (default the check's)",
	"Calibration.files":   "how many of the newest files are read",

	"NewestFileCheck.role":         "the host the files are on",
	"NewestFileCheck.path":         "a glob of the files; the newest one is read",
	"NewestFileCheck.newer_than":   "step_start (written since the step began) or a duration (no older than)",
	"NewestFileCheck.contains":     "regular expressions its content must match",
	"NewestFileCheck.not_contains": "regular expressions its content must not match",
	"NewestFileCheck.window":       "how much of the file's end is read (a large log costs no more than a small one)",
	"NewestFileCheck.calibrate":    "check the wording against the host's own older files in the preflight",

	"OutageCheck.target":  "the host whose outage is judged",
	"OutageCheck.from":    "the vantage points it is looked at from",
	"OutageCheck.ports":   "the TCP ports tried",
	"OutageCheck.expect":  "the verdict that passes",
	"OutageCheck.hold":    "how long the verdict must hold (the site's outage threshold)",
	"OutageCheck.every":   "how often it is looked at meanwhile",
	"OutageCheck.timeout": "how long each try may take",

	"ProvenStoppedCheck.role":           "the host the service must be stopped on",
	"ProvenStoppedCheck.service":        "the inventory service whose status is read",
	"ProvenStoppedCheck.from":           "vantage points that must get no answer from its URLs",
	"ProvenStoppedCheck.urls":           "URLs the service answers on when it runs",
	"ProvenStoppedCheck.timeout":        "how long each try may take",
	"ProvenStoppedCheck.if_unreachable": "what a host that cannot be reached over SSH counts as",

	"ReachCheck.from":    "the hosts connections are made from",
	"ReachCheck.to":      "the hosts they must reach",
	"ReachCheck.targets": "more targets as host names or addresses; templates",
	"ReachCheck.ports":   "the TCP ports: numbers, or templates such as {{ params.imap_port }}",
	"ReachCheck.expect":  "whether every connection must open, or be refused",
	"ReachCheck.timeout": "how long each connection may take",

	"RTTCheck.from":    "the host the round trips are measured from",
	"RTTCheck.to":      "the host measured",
	"RTTCheck.port":    "the TCP port connected to",
	"RTTCheck.max":     "the largest median round trip that passes",
	"RTTCheck.samples": "how many connections are timed",

	"SameCheck.roles":   "the hosts that must agree",
	"SameCheck.what":    "what is compared, in the operator's words (MDaemon version)",
	"SameCheck.ini":     "compare an INI key's value",
	"SameCheck.command": "compare a command's output",
	"SameCheck.compare": "how values are compared",

	"SameINI.file":    "the INI file",
	"SameINI.section": "its section",
	"SameINI.key":     "the key",

	"SameCommand.run":        "the command for POSIX hosts",
	"SameCommand.powershell": "the command for PowerShell hosts",
	"SameCommand.timeout":    "how long it may run",

	"ServiceCheck.roles": "the hosts",
	"ServiceCheck.name":  "the inventory service whose status command is run",
	"ServiceCheck.state": "the state that passes",

	"TCPCheck.from":    "the host the connection is made from; operator makes it from here",
	"TCPCheck.host":    "the host name or address connected to; a template",
	"TCPCheck.port":    "the port; a template",
	"TCPCheck.expect":  "whether the connection must open, or be refused",
	"TCPCheck.timeout": "how long the connection may take",

	"CopyAction.from":            "the host copied from",
	"CopyAction.to":              "the host copied to",
	"CopyAction.paths":           "files and folders to copy: a path, or {src, dst, expect, marker}",
	"CopyAction.mode":            "replace (delete, then copy: never merge) or into (copy into an existing folder)",
	"CopyAction.follow_symlinks": "a source or target that is a symbolic link is followed instead of refused",
	"CopyAction.preseed":         "a preseed step copies the paths ahead of the outage; this copy then sends only what changed and verifies every file by SHA-256 on both hosts (replace only)",
	"CopyAction.direct":          "false: always relay through the operator's machine, never host to host with a one-copy key",

	"RestoreAction.role": "the host the restored path is on",
	"RestoreAction.kind": "file (put the kept original back), aside (put back what a copy kept aside) or absent (set aside what a copy added where nothing was)",
	"RestoreAction.path": "what is restored, inside the install folder",
	"RestoreAction.kept": "where the original was kept (file, aside)",

	"DiscardAction.role": "the host the kept-aside copy is on",
	"DiscardAction.path": "what the copy replaced",
	"DiscardAction.kept": "where the copy kept the old one aside: path followed by .cutover-RUN-replaced (and -N); nothing else is removed",

	"PreseedAction.copy": "the id of the later copy step (preseed: true) whose paths this step copies to staging names while the service runs",

	"INIAction.role":    "the host the file is on",
	"INIAction.file":    "the INI file; the original is kept beside it",
	"INIAction.section": "the section of the keys (none: before any section)",
	"INIAction.set":     "keys and their values (templates), in order",
	"INIAction.unset":   "keys removed",
	"INIAction.format":  "the file's dialect",

	"RunAction.role":       "the host the command runs on",
	"RunAction.command":    "the command, for a POSIX shell; values are quoted for it",
	"RunAction.powershell": "the command for a PowerShell host",
	"RunAction.exit":       "the exit statuses that count as success (default 0)",
	"RunAction.timeout":    "how long it may run",

	"ServiceAction.roles":   "the hosts",
	"ServiceAction.name":    "the inventory service whose start or stop command runs",
	"ServiceAction.do":      "what to do",
	"ServiceAction.timeout": "how long each command may run (default 10m)",

	"WriteAction.role":    "the host the file is written on",
	"WriteAction.file":    "the file; the one it replaces is kept beside it",
	"WriteAction.content": "its content; a template, written as plain data",
	"WriteAction.mode":    "its permissions, in octal (0644)",
	"WriteAction.test":    "a command that must accept the file in place, or the previous file is put back",

	"WriteTest.command":    "the command (nginx -t), for a POSIX shell",
	"WriteTest.powershell": "the command for a PowerShell host",
	"WriteTest.timeout":    "how long it may run",
}

// fieldEnums are the keys whose values are fixed.
var fieldEnums = map[string][]string{
	"FileCheck.type":                    {"file", "dir"},
	"CopyPath.expect":                   {"install", "absent"},
	"CopyAction.mode":                   {"replace", "into"},
	"ServiceAction.do":                  {"start", "stop"},
	"ServiceCheck.state":                {"running", "stopped"},
	"TCPCheck.expect":                   {"open", "closed"},
	"ReachCheck.expect":                 {"open", "closed"},
	"OutageCheck.expect":                {"down", "up", "partition"},
	"ProvenStoppedCheck.if_unreachable": {"running", "stopped-if-silent"},
	"SameCheck.compare":                 {"whole", "after_first_label"},
}
