package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/ssokeep/ssokeep/internal/emulator"
)

func TestExportFormats(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	w.login()
	_, js, _ := runCP("credential-process", "-p", "emu")
	want := parseCP(t, js)
	vars := map[string]string{"AWS_ACCESS_KEY_ID": want.AccessKeyID, "AWS_SECRET_ACCESS_KEY": want.SecretAccessKey,
		"AWS_SESSION_TOKEN": want.SessionToken, "AWS_CREDENTIAL_EXPIRATION": want.Expiration, "AWS_ACCOUNT_ID": cpAcct}

	// The stderr warning says the keys never refresh and when they expire; it carries no secret.
	checkWarning := func(format, stderr string) {
		t.Helper()
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "never refresh") || !strings.Contains(stderr, want.Expiration) ||
			!strings.Contains(stderr, "in 1h0m0s") {
			t.Errorf("%s: stderr %q, want one warning line with the expiry", format, stderr)
		}
		assertNoSecret(t, format+": stderr", stderr, w.secrets(want.SecretAccessKey, want.SessionToken))
	}

	for _, format := range []string{"env", "dotenv", "fish", "powershell", "json"} {
		code, stdout, stderr := runCP("export", "-p", "emu", "--format", format)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		checkWarning(format, stderr)
		switch format {
		case "json":
			if got := parseCP(t, stdout); got != want {
				t.Errorf("json: got another set than credential-process")
			}
			continue
		case "env":
			// A POSIX shell reads back exactly the values.
			sh := exec.Command("sh", "-c", `eval "$(cat)"; printf '%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "$AWS_ACCOUNT_ID"`)
			sh.Stdin = strings.NewReader(stdout)
			out, err := sh.Output()
			if err != nil {
				t.Fatalf("sh: %v", err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			exp := []string{want.AccessKeyID, want.SecretAccessKey, want.SessionToken, want.Expiration, cpAcct}
			if strings.Join(got, "|") != strings.Join(exp, "|") {
				t.Errorf("env: sh read back other values")
			}
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != len(vars) {
			t.Errorf("%s: %d lines, want %d", format, len(lines), len(vars))
		}
		for k, v := range vars {
			var line string
			switch format {
			case "env":
				line = "export " + k + "=" + ShellQuote(v)
			case "dotenv":
				line = k + "=" + v // these values need no quotes
			case "fish":
				line = "set -gx " + k + " '" + v + "'"
			case "powershell":
				line = "$Env:" + k + " = '" + v + "'"
			}
			if !strings.Contains(stdout, line+"\n") {
				t.Errorf("%s: missing %s", format, k)
			}
		}
	}
	if n := w.ops("GetRoleCredentials"); n != 1 {
		t.Errorf("%d GetRoleCredentials: export must use the cached set", n)
	}
}

func TestExportQuoting(t *testing.T) {
	for _, tc := range []struct{ in, dotenv, fish string }{
		{"plain/+=", "plain/+=", "'plain/+='"},
		{`it's "$x"`, `"it's \"\$x\""`, `'it\'s "$x"'`},
		{`back\slash`, `"back\\slash"`, `'back\\slash'`},
	} {
		if got := dotenvQuote(tc.in); got != tc.dotenv {
			t.Errorf("dotenvQuote(%q) = %s, want %s", tc.in, got, tc.dotenv)
		}
		if got := fishQuote(tc.in); got != tc.fish {
			t.Errorf("fishQuote(%q) = %s, want %s", tc.in, got, tc.fish)
		}
	}
}

func TestExportErrors(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	code, stdout, stderr := runCP("export", "-p", "emu", "--format", "yaml")
	if code != ExitUsage || stdout != "" || !strings.Contains(stderr, "env, json, dotenv, fish or powershell") {
		t.Errorf("bad format: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr = runCP("export", "-p", "emu")
	if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "ssokeep login -p emu") {
		t.Errorf("login needed: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// MFA profiles: with no terminal to ask on and no --mfa-command, one line saying so.
	noTerminal(t)
	code, _, stderr = runCP("export", "-p", "bob-mfa")
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "no terminal") || !strings.Contains(stderr, "--mfa-command") {
		t.Errorf("MFA without a code: exit %d, stderr %q", code, stderr)
	}
	if n := w.ops("GetSessionToken"); n != 0 {
		t.Errorf("%d GetSessionToken without a code", n)
	}
}

func noTerminal(t *testing.T) {
	old := mfaTerminal
	t.Cleanup(func() { mfaTerminal = old })
	mfaTerminal = func() (*os.File, *os.File, error) { return nil, nil, errors.New("no tty") }
}

// TestExportPromptsForTheMFACodeOnTheTerminal types the code into a fake terminal: the prompt goes there,
// never to stdout (which is the exported text).
func TestExportPromptsForTheMFACodeOnTheTerminal(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	code, err := totp.GenerateCode(cpSeed, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "typed"), filepath.Join(dir, "screen")
	os.WriteFile(in, []byte(code+"\n"), 0o600)
	old := mfaTerminal
	t.Cleanup(func() { mfaTerminal = old })
	mfaTerminal = func() (*os.File, *os.File, error) {
		r, err := os.Open(in)
		if err != nil {
			return nil, nil, err
		}
		w, err := os.Create(out)
		return r, w, err
	}
	exit, stdout, stderr := runCP("export", "-p", "bob-mfa", "--format", "dotenv")
	if exit != 0 || !strings.Contains(stdout, "AWS_SESSION_TOKEN=") || strings.Contains(stdout, "MFA code") {
		t.Fatalf("exit %d, stderr %q", exit, stderr)
	}
	screen, _ := os.ReadFile(out)
	if string(screen) != "MFA code for "+cpMFA+" (profile bob-mfa): " {
		t.Errorf("terminal shows %q", screen)
	}
	if !strings.Contains(stderr, "in 12h0m0s") {
		t.Errorf("stderr %q: want the 12 h expiry", stderr)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4566": "http://127.0.0.1:4566",
		"/tmp/a b/c":            "'/tmp/a b/c'",
		"it's":                  `'it'\''s'`,
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
