package notify

import (
	"context"
	"errors"
	"sync"

	"github.com/gen2brain/beeep"
)

// ErrNoDesktop means this session has no desktop to notify (an SSH login,
// a headless server): Desktop is then a no-op that says so.
var ErrNoDesktop = errors.New("no desktop session to notify (no D-Bus session bus or display); use the terminal, a command hook or a webhook")

var appNameOnce sync.Once

// Desktop shows a desktop notification through gen2brain/beeep: D-Bus,
// then notify-send, then kdialog on Linux and the BSDs; the notification
// center (osascript as fallback) on macOS; toast notifications on Windows.
//
// It uses beeep.Notify, not beeep.Alert: Alert's fallback beep writes BEL
// to ssokeep's stdout, which under `ssokeep exec` may be the job's data.
// The bell is Terminal's job.
func Desktop() Notifier {
	appNameOnce.Do(func() { beeep.AppName = "ssokeep" })
	return desktop{}
}

type desktop struct{}

func (desktop) String() string { return "desktop" }

// Notify returns when the notification is handed over or ctx ends; beeep
// itself cannot be cancelled, so a stuck D-Bus call finishes in the
// background.
func (desktop) Notify(ctx context.Context, e Event) error {
	if err := desktopAvailable(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- beeep.Notify(e.Title(), desktopBody(e), "") }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// desktopBody is the message plus what the user must do with it.
func desktopBody(e Event) string {
	s := e.Text()
	if e.VerificationURL != "" {
		s += "\n" + e.VerificationURL
	}
	if e.UserCode != "" {
		s += "\nCode: " + e.UserCode
	}
	return s
}
