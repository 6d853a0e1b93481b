//go:build unix

package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
)

func TestExecNeedsALoginFirstWhenNobodyIsAtATerminal(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{})
	code, out, errOut := e.run("exec", "-p", "emulator", "--no-desktop", "--", "sh", "-c", "echo ran")
	if code != ExitLoginNeeded || strings.Contains(out, "ran") || !strings.Contains(errOut, "ssokeep login -p emulator") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestExecSaysWhetherTheSessionCoversTheJob(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{Approve: emulator.Auto, SessionDuration: 8 * time.Hour})
	if code, out, errOut := e.run("login", "-p", "emulator", "--device-code", "--no-browser", "--fresh"); code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errOut)
	}
	code, out, errOut := e.run("exec", "-p", "emulator", "--no-desktop", "--expect", "2h", "--", "sh", "-c", "exit 3")
	if code != 3 || !strings.Contains(errOut, "covers the expected 2h") {
		t.Errorf("2h job: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = e.run("exec", "-p", "emulator", "--no-desktop", "--expect", "36h", "--", "true")
	for _, want := range []string{"ends at", "ssokeep login -p emulator --fresh", "at least 4 logins"} {
		if code != 0 || !strings.Contains(errOut, want) {
			t.Errorf("36h job: exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
}

func TestExecGivesTheJobOnlyTheEndpoint(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{Approve: emulator.Auto})
	if code, out, errOut := e.run("login", "-p", "emulator", "--device-code", "--no-browser"); code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errOut)
	}
	t.Setenv("AWS_PROFILE", "emulator")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASTALE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "stale-secret")
	code, out, errOut := e.run("exec", "--no-desktop", "--", "sh", "-c",
		`echo "profile=$AWS_PROFILE key=$AWS_ACCESS_KEY_ID uri=$AWS_CONTAINER_CREDENTIALS_FULL_URI region=$(grep ^region "$AWS_CONFIG_FILE")"`)
	if code != 0 || !strings.Contains(out, "profile= key= uri=http://127.0.0.1:") || !strings.Contains(out, "region=region = us-east-1") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
