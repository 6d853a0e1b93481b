package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/testbin"
)

// boto3Rotations is run by python3 (boto3 1.43) and /usr/bin/python3 (boto3 1.26). Its only credentials
// come from the profile "cp", whose one key is credential_process = <ssokeep> credential-process -p emu; S3
// goes to the emulator through an explicit endpoint_url (boto3 1.26 ignores AWS_ENDPOINT_URL_*). It puts and
// gets objects until it has signed with MIN_KEYS different role credentials (one per rotation) and prints
// counts, never a key.
const boto3Rotations = `
import json, os, re, sys, time
import boto3, botocore
from botocore.config import Config

s3 = boto3.session.Session(profile_name="cp").client(
    "s3", endpoint_url=os.environ["EMU_URL"], region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))
keys = []
def grab(request, **kwargs):
    auth = request.headers.get("Authorization", b"")
    if isinstance(auth, bytes):
        auth = auth.decode()
    m = re.search(r"Credential=([^/]+)/", auth)
    if m and (not keys or keys[-1] != m.group(1)):
        keys.append(m.group(1))
s3.meta.events.register("before-send.s3", grab)

bucket = os.environ["BUCKET"]
want = int(os.environ["MIN_KEYS"])
ops = failures = 0
errors = []
def call(fn, **kw):
    global ops, failures
    ops += 1
    try:
        return fn(**kw)
    except Exception as e:
        failures += 1
        errors.append(type(e).__name__ + ": " + str(e)[:200])
call(s3.create_bucket, Bucket=bucket)
deadline = time.time() + float(os.environ["DEADLINE_SECONDS"])
i = 0
while len(set(keys)) < want and time.time() < deadline:
    body = ("object %d " % i).encode() * 100
    call(s3.put_object, Bucket=bucket, Key="k%d" % i, Body=body)
    got = call(s3.get_object, Bucket=bucket, Key="k%d" % i)
    if got is not None and got["Body"].read() != body:
        failures += 1
        errors.append("body mismatch")
    i += 1
print(json.dumps({"botocore": botocore.__version__, "ops": ops, "failures": failures, "keys": len(set(keys)), "errors": errors[:5]}))
sys.exit(1 if failures else 0)
`

// boto3Python returns exe if it imports boto3 with a botocore of wantPrefix, or skips saying what is missing.
func boto3Python(t *testing.T, exe, wantPrefix string) string {
	t.Helper()
	out, err := exec.Command(exe, "-c", "import boto3, botocore; print(botocore.__version__)").Output()
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), wantPrefix) {
		t.Skipf("%s with botocore %s.x is not available (got %q, %v)", exe, wantPrefix, strings.TrimSpace(string(out)), err)
	}
	return exe
}

func TestBoto3CredentialProcessAcrossRotations(t *testing.T) {
	// command is what the credential_process line names: ssokeep itself, or
	// the SDK-free front, which answers warm sets and hands over to ssokeep.
	for _, tc := range []struct{ name, exe, botocore, command string }{
		{"boto3-1.43", "python3", "1.43", "ssokeep credential-process"},
		{"boto3-1.26", "/usr/bin/python3", "1.29", "ssokeep credential-process"},
		{"boto3-1.43-front", "python3", "1.43", "ssokeep-credential-process"},
		{"boto3-1.26-front", "/usr/bin/python3", "1.29", "ssokeep-credential-process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			py := boto3Python(t, tc.exe, tc.botocore)
			bin := filepath.Join(filepath.Dir(testbin.Ssokeep(t)), tc.command)
			if tc.command == "ssokeep-credential-process" {
				bin = testbin.Command(t, "ssokeep-credential-process")
			}
			const role = 3 * time.Second // the emulator's role credentials: a rotation every 1.5 s of reuse
			const rotations = 5
			w := newCPWorld(t, false, emulator.Options{RoleDuration: role}) // wall clock: Python uses it
			w.writeConfig("[profile cp]\ncredential_process = " + bin + " -p emu\n")
			w.login()
			script := filepath.Join(t.TempDir(), "rotations.py")
			if err := os.WriteFile(script, []byte(boto3Rotations), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, script)
			cmd.Env = append(os.Environ(), "EMU_URL="+w.emu.URL(), "BUCKET=rotations",
				"MIN_KEYS="+strconv.Itoa(rotations+1), "DEADLINE_SECONDS=90")
			out, err := cmd.Output()
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			assertNoSecret(t, "python output", string(out)+stderr, w.secrets())
			var res struct {
				Botocore      string
				Ops, Failures int
				Keys          int
				Errors        []string
			}
			if jerr := json.Unmarshal(out, &res); jerr != nil {
				t.Fatalf("python: %v; stdout %q stderr %q", err, out, stderr)
			}
			t.Logf("botocore %s: %d S3 calls signed with %d role credential sets, %d failed; emulator: %d GetRoleCredentials",
				res.Botocore, res.Ops, res.Keys, res.Failures, w.ops("GetRoleCredentials"))
			if res.Failures != 0 || err != nil {
				t.Errorf("%d failed calls (%v): %v", res.Failures, err, res.Errors)
			}
			if res.Keys < rotations+1 {
				t.Errorf("signed with %d sets, want at least %d (%d rotations)", res.Keys, rotations+1, rotations)
			}
			st := w.emu.Stats().Operations
			if st["GetRoleCredentials"].Errors != 0 || st["PutObject"].Errors != 0 || st["GetObject"].Errors != 0 {
				t.Errorf("emulator saw errors: %+v", st)
			}
		})
	}
}
