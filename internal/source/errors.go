package source

import "fmt"

// ConfigError is a profile ssokeep cannot serve as configured. It names the file and the profile and says what
// to do.
type ConfigError struct {
	File, Profile, Msg string
}

func (e *ConfigError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("profile %s: %s", e.Profile, e.Msg)
	}
	return fmt.Sprintf("%s: profile %s: %s", e.File, e.Profile, e.Msg)
}
