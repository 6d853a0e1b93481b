package cli

import (
	"errors"
	"os"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// loadConfig reads the AWS shared config files. Problems in them are
// configuration errors (exit 3).
func loadConfig() (*awsconfig.Config, error) {
	files, err := awsconfig.DefaultFiles()
	if err != nil {
		return nil, WithCode(ExitConfig, err)
	}
	cfg, err := awsconfig.Load(files)
	if err != nil {
		return nil, WithCode(ExitConfig, err)
	}
	return cfg, nil
}

// caches returns the AWS CLI's SSO token cache and role-credential cache.
func caches() (ssocache.Dir, ssocache.RoleCache, error) {
	dir, err := ssocache.DefaultDir()
	if err != nil {
		return ssocache.Dir{}, ssocache.RoleCache{}, err
	}
	roles, err := ssocache.DefaultRoleCache()
	return dir, roles, err
}

// configError gives a resolution error its exit code.
func configError(err error) error {
	var ce *awsconfig.Error
	if errors.As(err, &ce) {
		return WithCode(ExitConfig, err)
	}
	return err
}

// explicitProfile is the profile named by -p or the environment, or "" when
// the user named none (then commands that can cover every profile do so).
func (g *Globals) explicitProfile() string {
	if g.profile != "" {
		return g.profile
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// now is the clock every command reads; tests replace it.
var now = time.Now
