package steps

// kindDoc is what the reference says of a check or action kind: what it proves or does,
// and an example, which a test loads in a runbook (roles old and new, a few params) so
// every example is one the loader accepts.
type kindDoc struct {
	Does    string
	Example string
}

var checkDocs = map[string]kindDoc{
	"assert": {"an expression over parameters and facts must be true; no host is asked",
		"assert: {that: 'params.port != 25', fail: 'port 25 is the mail server''s own'}"},
	"clock": {"the hosts' clocks agree within a bound (offsets measured against the operator's clock)",
		"clock: {roles: [old, new], max_skew: 1s, same_timezone: true}"},
	"command": {"a command's exit status and output",
		"command: {role: new, run: postqueue -p, output_contains: ['Mail queue is empty']}"},
	"distinct_machines": {"the hosts are different machines, not two names for one",
		"distinct_machines: {roles: [old, new]}"},
	"dns": {"a name resolves, seen from a host, to the addresses given",
		"dns: {from: new, name: '{{ params.mail_name }}', resolves_to: '{{ roles.new.addresses }}'}"},
	"facts": {"an expression over each host's probe facts is true",
		"facts: {roles: [old, new], that: 'roles.old.os == roles.new.os', because: both hosts must run the same operating system}"},
	"file_absent": {"a path does not exist",
		"file_absent: {role: old, path: etc/main.cf}"},
	"file_age": {"a file changed recently enough, and holds what it should",
		"file_age: {role: old, path: spool/last-sync, max_age: 24h}"},
	"file_exists": {"a path exists (and is a file or a folder)",
		"file_exists: {role: new, path: etc/main.cf, type: file}"},
	"http": {"a URL answers, from a host, with a status and body",
		"http: {from: new, url: 'http://{{ roles.new.hostname }}/health', status: [200], contains: [ok]}"},
	"ini": {"an INI key has a value (or matches, or is absent)",
		"ini: {role: new, file: etc/main.cf, format: ini, key: myhostname, equals: '{{ roles.new.hostname }}'}"},
	"newest_file": {"the newest file matching a glob is fresh and holds (or lacks) some lines; only its end is read",
		"newest_file: {role: new, path: log/maillog, newer_than: step_start, contains: ['daemon started'], not_contains: ['fatal:']}"},
	"outage": {"a host is down (not a cut link) from several vantage points, for as long as the site's policy says",
		"outage: {target: old, from: [new], ports: [25], expect: down, hold: 30s}"},
	"proven_stopped": {"a service is stopped, by its status and by nothing answering on its URLs (split-brain guard)",
		"proven_stopped: {role: old, service: postfix, from: [new], urls: ['http://{{ roles.old.hostname }}/']}"},
	"reach": {"every host reaches every target on the ports, shown as a matrix",
		"reach: {from: [new], to: [old], ports: [25, 587]}"},
	"rtt": {"the round trip between two hosts is LAN-like",
		"rtt: {from: new, to: old, port: 25, max: 5ms}"},
	"same": {"the hosts agree on an INI value or a command's output",
		"same: {roles: [old, new], what: Postfix version, command: {run: postconf -h mail_version}}"},
	"same_hardware": {"the hosts have as many processors and about as much memory as each other, as the probe found them",
		"same_hardware: {roles: [old, new]}"},
	"service": {"a service's status command says running or stopped",
		"service: {roles: [old], name: postfix, state: stopped}"},
	"tcp": {"a TCP port opens (or is refused) from a host",
		"tcp: {from: new, host: '{{ roles.old.hostname }}', port: '25', expect: closed}"},
}

var actionDocs = map[string]kindDoc{
	"copy": {"copies files and folders from one host to another, verified file by file (size and SHA-256); replace never merges",
		"copy: {from: old, to: new, mode: replace, paths: [etc/main.cf, spool/deferred]}"},
	"discard": {"removes what a replacing copy kept aside (kept: the name beside path ending .cutover-RUN-replaced), as cutover cleanup does once the move is confirmed; never through a symbolic link, never another name; a name already gone is fine",
		"discard: {role: new, path: /srv/spool, kept: /srv/spool.cutover-20261206T210237Z-e7a5b1-replaced}"},
	"ini": {"sets or removes INI keys; only the changed lines differ, the original is kept, the diff is shown first",
		"ini: {role: new, file: etc/main.cf, format: ini, set: {myhostname: '{{ roles.new.hostname }}'}}"},
	"preseed": {"copies a later copy step's paths to staging names on the target while the service runs (free space checked first, resumable); the copy then sends only the difference",
		"preseed: {copy: transfer-spool}"},
	"restore": {"puts back what an earlier action changed, as cutover rollback does: a kept original at its path (file), a folder a copy kept aside (aside), or sets aside what a copy added where nothing was (absent); gated like any action",
		"restore: {role: new, kind: file, path: etc/main.cf, kept: etc/main.cf.cutover-orig}"},
	"run": {"runs a command on a host; output streamed live, exit status judged",
		"run: {role: new, command: postqueue -f}"},
	"service": {"starts or stops a service with the inventory's commands for each host",
		"service: {roles: [old], name: postfix, do: stop}"},
	"write": {"writes a text file (a template, written as plain data), the replaced one kept; a test command may reject it",
		"write: {role: new, file: etc/aliases, content: \"postmaster: root\\n\"}"},
}

// commonCheckDocs are the keys every check may have besides its kind.
var commonCheckDocs = [][2]string{
	{"name", "what the check proves, in the operator's words"},
	{"when", "an expression; the check is skipped when it is false"},
	{"wait", "poll until the check passes or the timeout ends: {timeout: 5m, every: 5s}"},
	{"during_run", "a gate that holds only while the run is under way (a service stopped for the move): replay --verify-only, which checks the end state, leaves it out"},
	{"advice", "a check whose failure is a warning (status warn), shown and journaled but never stopping the step: what a vendor advises without requiring it; looked at once, never waited for"},
}
