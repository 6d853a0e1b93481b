package awsconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files locates the two shared files: AWS_CONFIG_FILE (default ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE
// (default ~/.aws/credentials). A leading "~/" is expanded. An empty path means "no such file": botocore treats a
// variable set to "" that way (Metaflow's devstack runs children with AWS_SHARED_CREDENTIALS_FILE=).
type Files struct{ Config, Credentials string }

// DefaultFiles reads the two variables and the home directory. It fails only when a path needs the home
// directory and there is none.
func DefaultFiles() (Files, error) {
	cfg, err := envPath("AWS_CONFIG_FILE", "~/.aws/config")
	if err != nil {
		return Files{}, err
	}
	creds, err := envPath("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
	if err != nil {
		return Files{}, err
	}
	return Files{Config: cfg, Credentials: creds}, nil
}

// envPath follows botocore: a variable that is set wins even when empty (then there is no file); unset means the
// default. Unlike botocore, $VARIABLES inside the value are not expanded.
func envPath(name, def string) (string, error) {
	p, ok := os.LookupEnv(name)
	if !ok {
		p = def
	}
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", fmt.Errorf("cannot locate %s (%s): no home directory (%v); set HOME or %s to an absolute path", name, p, err, name)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}
