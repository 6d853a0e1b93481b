//go:build !(linux || freebsd || netbsd || openbsd || illumos)

package notify

// desktopAvailable: macOS and Windows always have a notification center;
// elsewhere beeep answers ErrUnsupported itself.
func desktopAvailable() error { return nil }
