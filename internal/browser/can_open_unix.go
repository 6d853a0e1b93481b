//go:build !darwin && !windows

package browser

// canOpen: on Linux and the BSDs a browser needs a graphical session, and one
// forwarded over SSH (X11 forwarding) would open on the user's own screen.
func canOpen(getenv func(string) string) bool {
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	return !overSSH(getenv) || getenv("DISPLAY") != ""
}
