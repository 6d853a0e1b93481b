package awsconfig

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a length of time as ssokeep accepts it in config keys and flags: Go syntax ("90m", "8h",
// "1h30m"), a plain number of seconds ("28800", the unit AWS uses for session lengths), or whole days with a "d"
// suffix ("90d", the unit of the IAM Identity Center console), optionally followed by Go syntax ("1d12h").
// Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("bad duration %q: use Go syntax (90m, 8h), a number of seconds (28800) or days (90d)", s)
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return bad()
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return bad()
		}
		return time.Duration(n) * time.Second, nil
	}
	if i := strings.IndexByte(s, 'd'); i > 0 && isDigits(s[:i]) {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		const day = 24 * time.Hour
		if err != nil || n > math.MaxInt64/int64(day) {
			return bad()
		}
		d := time.Duration(n) * day
		if rest := s[i+1:]; rest != "" {
			r, err := time.ParseDuration(rest)
			if err != nil || rest[0] == '+' || rest[0] == '-' || d > math.MaxInt64-r {
				return bad()
			}
			d += r
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return bad()
	}
	return d, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
