package probe

import (
	"encoding/json"
	"time"
)

// Facts is what a probe learned about one host. Conditions and role requirements in
// runbooks see them through steps.RoleEnv (roles.NAME.hostname), with the inventory's
// view of the host.
type Facts struct {
	Name      string
	Address   string
	Reachable bool
	Error     string
	Hostname  string
	// OS is the kernel family in lower case: "linux", "windows", "darwin", "sunos".
	OS string
	// OSName is the distribution's own name ("Debian GNU/Linux 12 (bookworm)").
	OSName string
	// MachineID identifies the machine itself (/etc/machine-id, or the Windows
	// MachineGuid), so two inventory names for one machine can be told apart.
	MachineID string
	// TimeZone is the zone abbreviation and UTC offset, "CET+0100".
	TimeZone string
	// Addresses are the host's own IP addresses, as it reports them.
	Addresses []string
	// CPUs is how many processors the host has online, and Memory its physical memory in
	// bytes, so nodes a vendor advises to be alike can be compared; 0 when the host did
	// not tell.
	CPUs   int
	Memory int64
	// HostKey is the key the host proved itself with, "TYPE SHA256:...".
	HostKey string
	// ClockOffset is how far the host's clock is ahead of the operator's (negative: behind).
	ClockOffset time.Duration
	// ClockUncertainty bounds the error of ClockOffset (half the round trip).
	ClockUncertainty time.Duration
	// Components are the installed components found in the install folder ("lui", "hub").
	Components []string
	// Settings maps a component to the keys of its INI file.
	Settings map[string]map[string]string
	// Services maps a service name to "running", "stopped" or "unknown".
	Services map[string]string
	// Warnings are things an operator should look at, found by comparing hosts.
	Warnings []string
	// Timing is how long dial, authentication and the probe command took.
	Timing Timing
	// ProbedAt is when the probe finished, on the operator's clock.
	ProbedAt time.Time

	remoteTime time.Time // the host's clock reading, before it becomes ClockOffset
}

// Has reports whether component c was found.
func (f *Facts) Has(c string) bool {
	for _, x := range f.Components {
		if x == c {
			return true
		}
	}
	return false
}

type factsJSON struct {
	Name          string                       `json:"name"`
	Address       string                       `json:"address"`
	Reachable     bool                         `json:"reachable"`
	Error         string                       `json:"error"`
	Hostname      string                       `json:"hostname"`
	OS            string                       `json:"os"`
	OSName        string                       `json:"os_name,omitempty"`
	MachineID     string                       `json:"machine_id,omitempty"`
	TimeZone      string                       `json:"timezone,omitempty"`
	Addresses     []string                     `json:"addresses,omitempty"`
	CPUs          int                          `json:"cpus,omitempty"`
	Memory        int64                        `json:"memory_bytes,omitempty"`
	HostKey       string                       `json:"host_key,omitempty"`
	ClockOffsetMS float64                      `json:"clock_offset_ms"`
	ClockErrorMS  float64                      `json:"clock_uncertainty_ms"`
	Components    []string                     `json:"components"`
	Settings      map[string]map[string]string `json:"settings,omitempty"`
	Services      map[string]string            `json:"services,omitempty"`
	Warnings      []string                     `json:"warnings,omitempty"`
	Timing        timingJSON                   `json:"timing_ms"`
	ProbedAt      time.Time                    `json:"probed_at"`
}

type timingJSON struct {
	Dial float64 `json:"dial"`
	Auth float64 `json:"auth"`
	Exec float64 `json:"exec"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fromMS(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// MarshalJSON writes facts with durations in milliseconds and lists never null.
func (f Facts) MarshalJSON() ([]byte, error) {
	comps := f.Components
	if comps == nil {
		comps = []string{}
	}
	return json.Marshal(factsJSON{
		Name: f.Name, Address: f.Address, Reachable: f.Reachable, Error: f.Error,
		Hostname: f.Hostname, OS: f.OS, OSName: f.OSName, MachineID: f.MachineID, TimeZone: f.TimeZone,
		Addresses: f.Addresses, CPUs: f.CPUs, Memory: f.Memory, HostKey: f.HostKey,
		ClockOffsetMS: ms(f.ClockOffset), ClockErrorMS: ms(f.ClockUncertainty),
		Components: comps, Settings: f.Settings, Services: f.Services, Warnings: f.Warnings,
		Timing:   timingJSON{Dial: ms(f.Timing.Dial), Auth: ms(f.Timing.Auth), Exec: ms(f.Timing.Exec)},
		ProbedAt: f.ProbedAt,
	})
}

// UnmarshalJSON reads what MarshalJSON wrote (journals keep facts).
func (f *Facts) UnmarshalJSON(b []byte) error {
	var j factsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Facts{
		Name: j.Name, Address: j.Address, Reachable: j.Reachable, Error: j.Error,
		Hostname: j.Hostname, OS: j.OS, OSName: j.OSName, MachineID: j.MachineID, TimeZone: j.TimeZone,
		Addresses: j.Addresses, CPUs: j.CPUs, Memory: j.Memory, HostKey: j.HostKey,
		ClockOffset: fromMS(j.ClockOffsetMS), ClockUncertainty: fromMS(j.ClockErrorMS),
		Components: j.Components, Settings: j.Settings, Services: j.Services, Warnings: j.Warnings,
		Timing:   Timing{Dial: fromMS(j.Timing.Dial), Auth: fromMS(j.Timing.Auth), Exec: fromMS(j.Timing.Exec)},
		ProbedAt: j.ProbedAt,
	}
	return nil
}
