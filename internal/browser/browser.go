// Package browser opens the login page in the user's browser, and tells
// whether there is one to open: over SSH or on a headless server there is
// none, and the login must use the device-code flow instead.
package browser

import (
	"io"
	"os"

	clibrowser "github.com/cli/browser"
)

// Open shows url in the default browser. The opener's own output is dropped:
// it would interleave with ssokeep's prompt.
func Open(url string) error {
	clibrowser.Stdout, clibrowser.Stderr = io.Discard, io.Discard
	return clibrowser.OpenURL(url)
}

// CanOpen reports whether a browser can be shown to the person at this
// terminal. Over SSH the browser would open on the remote machine, where
// nobody sees it.
func CanOpen() bool { return canOpen(os.Getenv) }

func overSSH(getenv func(string) string) bool {
	return getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "" || getenv("SSH_CLIENT") != ""
}
