package inventory

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/yamlpos"
)

// TestHostPatternsCountedBeforeExpanding: an inventory whose patterns together stand
// for more than maxHostNames names is refused having made none of them, however many
// the earlier patterns stood for; one within the cap expands in file order.
func TestHostPatternsCountedBeforeExpanding(t *testing.T) {
	pos := yamlpos.Pos{File: "r.ini", Line: 1, Col: 1}
	a := newAnsInv("r.ini", ".")
	a.group("g", pos)
	for _, p := range []string{"x[0:49999]", "y[0:49999]", "z[0:9]"} {
		a.hostLine("g", p, nil, pos)
	}
	a.expandHosts()
	if len(a.hosts) != 0 || len(a.order) != 0 {
		t.Errorf("made %d hosts of an inventory over the cap", len(a.hosts))
	}
	if len(a.errs) != 1 || a.errs[0].Pos.Line != 1 || !strings.Contains(a.errs[0].Error(), `host "z[0:9]": `+errTooManyNames.Error()) {
		t.Errorf("errors = %v, want one naming the cap", a.errs)
	}

	hp, err := parseHostPattern("a[0:99999][0:99999]", maxHostNames)
	if !errors.Is(err, errTooManyNames) || hp.count != 0 {
		t.Errorf("product of ranges: count %d, err %v", hp.count, err)
	}

	a = newAnsInv("r.ini", ".")
	a.group("g", pos)
	a.hostLine("g", "web[08:10]", map[string]ansVar{"k": {val: "v"}}, pos)
	a.hostLine("g", "db-[a:c:2]", nil, pos)
	a.expandHosts()
	if want := []string{"web08", "web09", "web10", "db-a", "db-c"}; !slices.Equal(a.order, want) {
		t.Errorf("hosts = %v, want %v", a.order, want)
	}
	if a.hosts["web09"].vars["k"].val != "v" {
		t.Errorf("web09 lost its line's variables: %v", a.hosts["web09"].vars)
	}
}
