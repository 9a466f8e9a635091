package lab

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	yaml "github.com/goccy/go-yaml"

	"github.com/cutover/cutover/probe/inventory"
)

// AliasHost makes the inventory entry name lead to the machine of host of: the same
// address, SSH port and install folder, and so the same host key and machine identity.
// That is how one machine ends up under two inventory names in real life (an old DNS
// name, an entry copied and not edited), and what runbooks that demand distinct machines
// must catch. When name is a host of the scenario, its entry is re-pointed and its own
// simulated machine is no longer reached through the inventory; otherwise an entry called
// name is added.
//
// vars are set as inventory variables of the alias's entry, over those it copies (the
// scenario may give the alias a lock file of its own, cutover_lock, so that a run gets
// past cutover's host lock, which sees one machine, to the checks that tell the two
// names apart).
//
// The inventory file is rewritten at once. Like the changes a run makes to the hosts, the
// alias lasts until the lab is reset (or its ports move and the inventory is written
// afresh); scenario faults call it from their Apply function.
func (l *Lab) AliasHost(name, of string, vars map[string]string) error {
	target := l.byName[of]
	if target == nil {
		return fmt.Errorf("lab: scenario %s has no host %q", l.sc.Name, of)
	}
	if name == of {
		return fmt.Errorf("lab: host %s cannot be an alias of itself", of)
	}
	if err := inventory.ValidName(name); err != nil {
		return fmt.Errorf("lab: alias %q: %v", name, err)
	}
	// The file as it is now, so earlier aliases stay.
	content, err := os.ReadFile(l.Inventory())
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	// Keep the comment lines on top; the rest is rewritten with the alias in it.
	var header []byte
	body := content
	for len(body) > 0 && body[0] == '#' {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			break
		}
		header, body = append(header, body[:i+1]...), body[i+1:]
	}
	var doc yaml.MapSlice
	if err := yaml.UnmarshalWithOptions(body, &doc, yaml.UseOrderedMap()); err != nil {
		return fmt.Errorf("lab: inventory: %w", err)
	}
	hi := -1
	for i, item := range doc {
		if item.Key == "hosts" {
			hi = i
		}
	}
	if hi < 0 {
		return fmt.Errorf("lab: inventory has no hosts")
	}
	hosts, ok := doc[hi].Value.(yaml.MapSlice)
	if !ok {
		return fmt.Errorf("lab: inventory hosts are not a mapping")
	}
	var entry yaml.MapSlice
	at := -1
	for i, item := range hosts {
		switch fmt.Sprint(item.Key) {
		case of:
			e, ok := item.Value.(yaml.MapSlice)
			if !ok {
				return fmt.Errorf("lab: inventory entry %s is not a mapping", of)
			}
			entry = append(yaml.MapSlice{}, e...)
		case name:
			at = i
		}
	}
	if entry == nil {
		return fmt.Errorf("lab: inventory has no entry for %s", of)
	}
	if len(vars) > 0 {
		entry = withVars(entry, vars)
	}
	if at >= 0 {
		hosts[at].Value = entry
	} else {
		hosts = append(hosts, yaml.MapItem{Key: name, Value: entry})
	}
	doc[hi].Value = hosts
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("lab: inventory: %w", err)
	}
	note := fmt.Sprintf("# %s is an alias: it leads to the machine of %s (a lab fault).\n", name, of)
	if !strings.HasSuffix(string(header), "\n") && len(header) > 0 {
		header = append(header, '\n')
	}
	l.logf("inventory: %s now leads to %s", name, of)
	return writeFileAtomic(l.Inventory(), append(append(header, note...), out...), 0o644)
}

// withVars returns an inventory entry with vars set among its variables.
func withVars(entry yaml.MapSlice, vars map[string]string) yaml.MapSlice {
	var merged yaml.MapSlice
	vi := -1
	for i, item := range entry {
		if item.Key == "vars" {
			vi = i
			if old, ok := item.Value.(yaml.MapSlice); ok {
				merged = append(merged, old...)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		j := slices.IndexFunc(merged, func(it yaml.MapItem) bool { return it.Key == k })
		if j >= 0 {
			merged[j].Value = vars[k]
		} else {
			merged = append(merged, yaml.MapItem{Key: k, Value: vars[k]})
		}
	}
	if vi >= 0 {
		entry[vi].Value = merged
		return entry
	}
	return append(entry, yaml.MapItem{Key: "vars", Value: merged})
}
