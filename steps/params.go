package steps

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/cutover/cutover/probe"
)

// ParamEnvPrefix starts the environment variables that give parameters:
// CUTOVER_PARAM_DB_PASSWORD gives db_password.
const ParamEnvPrefix = "CUTOVER_PARAM_"

// ParamEnvName is the environment variable that gives parameter id.
func ParamEnvName(id string) string {
	return ParamEnvPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(id))
}

var hostLabelRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Parse converts text (from a run file, --set or a form) to the parameter's type and
// validates it. The error says what is wrong in the operator's terms.
func (p *Param) Parse(s string) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if p.Optional || p.Type == TypeBool {
			return zeroValue(p.Type), nil
		}
		return nil, fmt.Errorf("a value is required")
	}
	var v any
	switch p.Type {
	case TypeBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			switch strings.ToLower(s) {
			case "yes", "y", "on":
				b, err = true, nil
			case "no", "n", "off":
				b, err = false, nil
			default:
				return nil, fmt.Errorf("expected yes or no, got %q", s)
			}
		}
		v = b
	case TypeInt:
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("expected a whole number, got %q", s)
		}
		v = n
	case TypePort:
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("a port is a number from 1 to 65535, got %q", s)
		}
		v = n
	case TypeChoice:
		ok := false
		for _, c := range p.Choices {
			if c == s {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("expected one of %s, got %q", strings.Join(p.Choices, ", "), s)
		}
		v = s
	case TypeHost:
		if err := ValidHostName(s); err != nil {
			return nil, err
		}
		v = s
	case TypePath:
		if err := probe.CheckPath(s); err != nil {
			return nil, err
		}
		v = s
	case TypeCommand:
		if err := probe.CheckLine(s); err != nil {
			return nil, fmt.Errorf("a command is one line: %w", err)
		}
		v = s
	case TypeRegex:
		if _, err := regexp.Compile(s); err != nil {
			return nil, fmt.Errorf("%q is not a regular expression: %s", s, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		v = s
	default:
		v = s
	}
	// Rejections first: they say why, the pattern only that the value does not fit.
	for _, rj := range p.Reject {
		if rj.Match != nil && rj.Match.Re != nil && rj.Match.Re.MatchString(s) {
			return nil, fmt.Errorf("%q refused: %s", s, rj.Because)
		}
	}
	if p.Pattern != nil && p.Pattern.Src != "" && !p.Pattern.MatchWhole(fmt.Sprint(v)) {
		return nil, fmt.Errorf("%q does not match %s", s, p.Pattern.Src)
	}
	return v, nil
}

func zeroValue(t ParamType) any {
	switch t {
	case TypeBool:
		return false
	case TypeInt, TypePort:
		return 0
	}
	return ""
}

// ValidHostName accepts a DNS name or an IP address and nothing else: in particular not
// a name with a port, which Maestro's INI entries forbid.
func ValidHostName(s string) error {
	if strings.Contains(s, "://") {
		return fmt.Errorf("%q is a URL; give only the host name", s)
	}
	if net.ParseIP(s) != nil {
		return nil
	}
	if h, port, err := net.SplitHostPort(s); err == nil {
		return fmt.Errorf("%q carries a port (%s): give the host name %q alone and the port in its own field", s, port, h)
	}
	if strings.Contains(s, ":") {
		return fmt.Errorf("%q is not a host name (it contains ':')", s)
	}
	if len(s) > 253 {
		return fmt.Errorf("host name is longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if !hostLabelRe.MatchString(label) {
			return fmt.Errorf("%q is not a valid host name (label %q)", s, label)
		}
	}
	return nil
}

// Display renders a value for humans, hiding secrets.
func (p *Param) Display(v any) string {
	if p.Secret {
		return "[secret]"
	}
	return format(v)
}
