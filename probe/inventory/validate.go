package inventory

import (
	"fmt"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// validateHost checks the values of a host that reach commands and paths on hosts,
// whatever form the inventory has: its name, address, login, install folder and the
// vars runbooks read as a name and addresses (vars.hostname, vars.addresses, which
// stand in for the facts of a host that does not answer). Each problem is reported
// with the field it is in ("install_dir"); the loader places it at that field's line.
func validateHost(h *probe.Host, report func(field, msg string)) {
	if strings.HasPrefix(h.Name, "-") {
		report("name", fmt.Sprintf("host name %q starts with '-', which a command would read as an option", h.Name))
	}
	if h.Address != "" && !h.Local {
		if err := probe.CheckHostName(h.Address); err != nil {
			report("address", fmt.Sprintf("address of %s: %v", h.Name, err))
		}
	}
	if h.User != "" {
		if err := probe.CheckPath(h.User); err != nil {
			report("user", fmt.Sprintf("user of %s: %v", h.Name, err))
		}
	}
	if h.InstallDir != "" {
		if err := probe.CheckInstallDir(h.InstallDir, h.PowerShell()); err != nil {
			report("install_dir", fmt.Sprintf("install_dir of %s: %v", h.Name, err))
		}
	}
	if s, ok := h.Vars["hostname"]; ok && s != "" {
		if err := probe.CheckHostName(s); err != nil {
			report("vars.hostname", fmt.Sprintf("vars.hostname of %s: %v", h.Name, err))
		}
	}
	if s, ok := h.Vars["addresses"]; ok {
		for _, a := range strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' }) {
			if err := probe.CheckHostName(a); err != nil {
				report("vars.addresses", fmt.Sprintf("vars.addresses of %s: %v", h.Name, err))
			}
		}
	}
}

// yamlKey is the key of cutover's YAML inventory that holds field ("vars.hostname" is
// under vars:).
func yamlKey(field string) string {
	key, _, _ := strings.Cut(field, ".")
	return key
}

// ansibleFields are the Ansible variables that set each field validateHost names.
var ansibleFields = map[string][]string{
	"address":        {"ansible_host", "ansible_ssh_host"},
	"user":           {"ansible_user", "ansible_ssh_user", "ansible_remote_user"},
	"install_dir":    {"cutover_install_dir"},
	"vars.hostname":  {"hostname"},
	"vars.addresses": {"addresses"},
}

// ansiblePos is where an Ansible inventory sets field: the first of its variables that
// is given, else the host's own line (at).
func ansiblePos(vars map[string]ansVar, at yamlpos.Pos, field string) yamlpos.Pos {
	for _, k := range ansibleFields[field] {
		if v, ok := vars[k]; ok && !v.pos.IsZero() {
			return v.pos
		}
	}
	return at
}
