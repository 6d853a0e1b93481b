// Package fsutil holds the two file primitives every cache and state file of
// ssokeep needs: atomic replacement and a lock that works across goroutines and
// processes on Linux, macOS and Windows.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// NewFileMode is what the CLI gives its cache files (botocore's mkstemp): owner read/write only.
const NewFileMode fs.FileMode = 0o600

// ResolveTarget follows a symlinked cache file so that a rewrite replaces the file the user linked to, not the
// link.
func ResolveTarget(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("%s is a symlink that cannot be followed: %w", path, err)
	}
	return target, nil
}

// WriteAtomic replaces path with data: a temporary file in the same directory, fsync, rename, so readers see
// the old file or the new one and never a part. The new file gets perm. The temporary file is removed on every
// error path.
func WriteAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create cache directory: %w", err)
	}
	// A dot name ending in .tmp: never *.json, so no reader (List, the CLI, the SDKs) takes it for a cache file.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable. Best effort: Windows cannot sync a directory, and the data is already safe
// in the file.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// ExistingMode is the permission to give a rewrite of path: the file's own (never wider than it was), or
// NewFileMode for a new file.
func ExistingMode(path string) (fs.FileMode, error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		return fi.Mode().Perm(), nil
	case errors.Is(err, fs.ErrNotExist):
		return NewFileMode, nil
	default:
		return 0, err
	}
}
