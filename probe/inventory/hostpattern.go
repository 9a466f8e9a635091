package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// maxHostNames caps the host names the ranges of one inventory expand to, counted
// before duplicates are merged. Ranges multiply (a[0:99999][0:99999] is 10^10 names), so
// capping each range alone does not bound the work.
const maxHostNames = 100000

// errTooManyNames refuses a pattern that would take the inventory over maxHostNames.
var errTooManyNames = fmt.Errorf("expands to more host names than the %d an inventory may have", maxHostNames)

// hostPattern is a host name with Ansible's ranges, parsed but not expanded: web[01:03]
// is web01, web02, web03; db-[a:c] is db-a, db-b, db-c; [1:10:2] steps by 2. Parsing
// counts the names it stands for, so an inventory's total is checked against
// maxHostNames before a single name is made.
type hostPattern struct {
	segs  []patternSegment
	count int // how many names it expands to
}

// patternSegment is literal text followed by at most one range.
type patternSegment struct {
	text  string             // literal text before the range
	count int                // how many items the range has; 0 after the last range
	item  func(k int) string // the range's k-th item
}

// parseHostPattern reads a host pattern, refusing one that stands for more than limit
// names.
func parseHostPattern(p string, limit int) (hostPattern, error) {
	var hp hostPattern
	total := 1
	for rest := p; ; {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			if strings.IndexByte(rest, ']') >= 0 {
				return hp, fmt.Errorf("unmatched ]")
			}
			hp.segs = append(hp.segs, patternSegment{text: rest})
			break
		}
		if strings.IndexByte(rest[:i], ']') >= 0 {
			return hp, fmt.Errorf("unmatched ]")
		}
		j := strings.IndexByte(rest[i:], ']')
		if j < 0 {
			return hp, fmt.Errorf("unmatched [")
		}
		j += i
		count, item, err := hostRange(rest[i+1 : j])
		if err != nil {
			return hp, err
		}
		if limit < 1 || count > limit/total {
			return hp, errTooManyNames
		}
		total *= count
		hp.segs = append(hp.segs, patternSegment{text: rest[:i], count: count, item: item})
		rest = rest[j+1:]
	}
	if total > limit {
		return hp, errTooManyNames
	}
	hp.count = total
	return hp, nil
}

// names expands the pattern, in order.
func (hp hostPattern) names() []string {
	out := make([]string, 0, hp.count)
	var build func(k int, prefix string)
	build = func(k int, prefix string) {
		s := hp.segs[k]
		if s.item == nil {
			out = append(out, prefix+s.text)
			return
		}
		for n := 0; n < s.count; n++ {
			build(k+1, prefix+s.text+s.item(n))
		}
	}
	build(0, "")
	return out
}

// hostRange reads the inside of one range, start:end or start:end:step, numbers or
// single letters: how many items it has and the k-th one. Bounds are checked so that no
// arithmetic overflows.
func hostRange(spec string) (int, func(k int) string, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, nil, fmt.Errorf("range [%s]: expected [start:end] or [start:end:step]", spec)
	}
	step := 1
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return 0, nil, fmt.Errorf("range [%s]: step must be a positive number", spec)
		}
		step = n
	}
	lo, hi := parts[0], parts[1]
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	switch {
	case digits(lo) && digits(hi):
		a, err1 := strconv.ParseInt(lo, 10, 64)
		b, err2 := strconv.ParseInt(hi, 10, 64)
		if err1 != nil || err2 != nil {
			return 0, nil, fmt.Errorf("range [%s] is too large", spec)
		}
		if b < a {
			return 0, nil, fmt.Errorf("range [%s]: expected start <= end", spec)
		}
		// Both are at least 0, so b-a cannot overflow, and a+k*step stays within b.
		count := (b-a)/int64(step) + 1
		if count > maxHostNames {
			return 0, nil, fmt.Errorf("range [%s] is too large", spec)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
		}
		return int(count), func(k int) string { return fmt.Sprintf("%0*d", width, a+int64(k)*int64(step)) }, nil
	case len(lo) == 1 && len(hi) == 1 && !digits(lo) && !digits(hi):
		if lo[0] > hi[0] {
			return 0, nil, fmt.Errorf("range [%s]: expected start <= end", spec)
		}
		count := (int(hi[0])-int(lo[0]))/step + 1
		return count, func(k int) string { return string(lo[0] + byte(k*step)) }, nil
	case (digits(lo) || len(lo) == 1) && (digits(hi) || len(hi) == 1):
		return 0, nil, fmt.Errorf("range [%s]: expected numbers or single letters, not both", spec)
	}
	return 0, nil, fmt.Errorf("range [%s]: expected numbers or single letters", spec)
}
