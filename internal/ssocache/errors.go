package ssocache

import (
	"errors"
	"fmt"
)

// ParseError says a cache file could not be read as what it should be. Its message names the file and what is
// wrong, never the content (a cache file holds secrets). A file that gave a ParseError is never overwritten by
// this package; remove it explicitly (Dir.Remove) if it is to go.
type ParseError struct {
	Path string
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: not a valid SSO cache file: %v", e.Path, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrBadKey is returned (wrapped) for a key that cannot name a cache file.
var ErrBadKey = errors.New("not a valid cache key")

// validKey accepts the names the CLI gives its files: SHA-1 hex and botocore-client-id-{region}. Anything
// that could leave the directory or hide a file is refused.
func validKey(key string) error {
	if key == "" || len(key) > 200 || key[0] == '.' || key[0] == '-' {
		return fmt.Errorf("%w: %q (want a SHA-1 hex name such as TokenKey returns)", ErrBadKey, key)
	}
	for _, r := range key {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("%w: %q (want a SHA-1 hex name such as TokenKey returns)", ErrBadKey, key)
		}
	}
	return nil
}
