//go:build linux || freebsd || netbsd || openbsd || illumos

package notify

import (
	"os"
	"path/filepath"
)

// desktopAvailable refuses early where no notification can be shown. Without
// it beeep's D-Bus library would try to autolaunch a session bus
// (dbus-launch) on a headless machine.
func desktopAvailable() error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" || os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "bus")); err == nil {
			return nil
		}
	}
	return ErrNoDesktop
}
