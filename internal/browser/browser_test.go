package browser

import (
	"runtime"
	"testing"
)

func TestCanOpen(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	type tc struct {
		env  func(string) string
		want bool
	}
	var cases map[string]tc
	switch runtime.GOOS {
	case "darwin", "windows":
		cases = map[string]tc{
			"desktop":        {env(), true},
			"ssh session":    {env("SSH_CONNECTION", "10.0.0.1 5 10.0.0.2 22"), false},
			"ssh with a tty": {env("SSH_TTY", "/dev/pts/1"), false},
		}
	default:
		cases = map[string]tc{
			"headless server":        {env(), false},
			"X session":              {env("DISPLAY", ":0"), true},
			"Wayland session":        {env("WAYLAND_DISPLAY", "wayland-0"), true},
			"ssh without X":          {env("SSH_CONNECTION", "a b c d"), false},
			"ssh with X forwarding":  {env("SSH_CONNECTION", "a b c d", "DISPLAY", "localhost:10.0"), true},
			"ssh, Wayland elsewhere": {env("SSH_TTY", "/dev/pts/1", "WAYLAND_DISPLAY", "wayland-0"), false},
		}
	}
	for name, c := range cases {
		if got := canOpen(c.env); got != c.want {
			t.Errorf("%s: canOpen = %v, want %v", name, got, c.want)
		}
	}
}
