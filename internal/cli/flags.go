package cli

import (
	"fmt"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
)

// parseFlagDuration reads a duration flag: Go syntax (90m, 1h30m), plain
// seconds, or days (2d).
func parseFlagDuration(flag, v string) (time.Duration, error) {
	d, err := awsconfig.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, WithCode(ExitUsage, fmt.Errorf("%s %q: use a duration such as 90m, 2h or 1d", flag, v))
	}
	return d, nil
}
