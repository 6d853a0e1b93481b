//go:build darwin || windows

package browser

// canOpen: macOS and Windows always have a desktop, unless we are a remote
// shell on the machine.
func canOpen(getenv func(string) string) bool { return !overSSH(getenv) }
