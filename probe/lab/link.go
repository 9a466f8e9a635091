package lab

import (
	"sync"
	"time"
)

// The operator's link. An operator at home reaches the hosts over a VPN of a few
// megabits per second while the hosts talk to each other over the data centre's
// network. SetOperatorLink simulates that: every SSH connection the operator opens
// (logged in with the lab's client key) shares one token bucket per direction of the
// given rate, while connections between lab hosts (keys of the hosts' own
// authorized_keys) run at loopback speed.

// linkLimit is a link's rate, one bucket per direction.
type linkLimit struct {
	up, down bucket
}

// bucket is a token bucket that lends: a transfer takes its tokens at once and waits
// until the bucket has refilled what it borrowed, so transfers queue in the order they
// came and the long-run rate is the bucket's.
type bucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
}

// take waits until n bytes may pass.
func (b *bucket) take(n int) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	owe := -b.tokens
	b.mu.Unlock()
	if owe > 0 {
		time.Sleep(time.Duration(owe / b.rate * float64(time.Second)))
	}
}

// SetOperatorLink limits the operator's connections to bitsPerSecond in each direction
// (shared by all of them, as one link is); zero or less removes the limit. It applies
// to connections opened afterwards.
func (l *Lab) SetOperatorLink(bitsPerSecond int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bitsPerSecond <= 0 {
		l.link = nil
		return
	}
	rate := float64(bitsPerSecond) / 8
	// Half a second of traffic: a sleep that overshoots (a busy machine wakes sleepers
	// late) is made up by the tokens gathered meanwhile, so the long-run rate holds.
	burst := max(rate/2, 64<<10)
	now := time.Now()
	l.link = &linkLimit{
		up:   bucket{rate: rate, burst: burst, tokens: burst, last: now},
		down: bucket{rate: rate, burst: burst, tokens: burst, last: now},
	}
}

// operatorLink is the operator's link limit, or nil when it is not limited.
func (l *Lab) operatorLink() *linkLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.link
}

// setLink makes the connection's traffic pass through lim (nil: unlimited).
func (c *gatedConn) setLink(lim *linkLimit) { c.link.Store(lim) }
