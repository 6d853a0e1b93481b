package s3api

import (
	"bytes"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBoto3Clients runs testdata/s3_clients.py with every boto3 on the
// machine (pip 1.43 as python3, Debian's 1.26 as /usr/bin/python3), over
// HTTP and over TLS, where botocore changes how it sends payloads. The
// handler's log tells which x-amz-content-sha256 modes each client used;
// the test prints them and requires the ones botocore is known to use.
func TestBoto3Clients(t *testing.T) {
	if testing.Short() {
		t.Skip("boto3 interop is slow (20 MB transfers); skipped with -short")
	}
	ran := 0
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			t.Logf("%s not found; skipped", py)
			continue
		}
		ver, err := exec.Command(path, "-c", "import boto3, botocore; print(botocore.__version__)").Output()
		if err != nil {
			t.Logf("%s has no boto3; skipped", py)
			continue
		}
		botocoreVersion := strings.TrimSpace(string(ver))
		for _, useTLS := range []bool{false, true} {
			scheme := map[bool]string{false: "http", true: "https"}[useTLS]
			t.Run(botocoreVersion+"/"+scheme, func(t *testing.T) {
				ran++
				e := newEnv(t, useTLS)
				out := runBoto3(t, e, path)
				t.Logf("botocore %s over %s, payload modes by operation: %s", botocoreVersion, scheme, e.logs.summary())
				for _, s := range []string{e.cred.secret, e.cred.token} {
					if strings.Contains(out, s) {
						t.Fatal("the client script printed a secret")
					}
				}
				// What each botocore is known to send: signed payloads over
				// plain HTTP, unsigned (1.26) or checksum trailers (1.43)
				// for uploads over TLS; presigned URLs are UNSIGNED-PAYLOAD.
				put := e.logs.modesFor("PutObject")
				part := e.logs.modesFor("UploadPart")
				switch {
				case !useTLS:
					requireMode(t, "PutObject", put, "sha256")
					requireMode(t, "UploadPart", part, "sha256")
				case botocoreVersion >= "1.36":
					requireMode(t, "PutObject", put, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
					requireMode(t, "UploadPart", part, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
				default:
					requireMode(t, "PutObject", put, "UNSIGNED-PAYLOAD")
					requireMode(t, "UploadPart", part, "UNSIGNED-PAYLOAD")
				}
				requireMode(t, "GetObject", e.logs.modesFor("GetObject"), "presigned:UNSIGNED-PAYLOAD")
			})
		}
	}
	if ran == 0 {
		t.Skip("no python with boto3 on this machine; boto3 interop not run")
	}
}

func requireMode(t *testing.T, op string, got []string, want string) {
	t.Helper()
	if !slices.Contains(got, want) {
		t.Errorf("%s payload modes %v, want %s among them", op, got, want)
	}
}

func runBoto3(t *testing.T, e *env, python string) string {
	t.Helper()
	dir := t.TempDir()
	// A clean environment: no AWS_* from the machine (profiles, endpoints,
	// credential files), a HOME without ~/.aws, explicit credentials only.
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"S3_ENDPOINT=" + e.srv.URL,
		"S3_KEY_ID=" + e.cred.id,
		"S3_SECRET=" + e.cred.secret,
		"S3_TOKEN=" + e.cred.token,
		"S3_BUCKET=boto3-interop",
	}
	if e.srv.TLS != nil {
		ca := filepath.Join(dir, "ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw})
		if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		env = append(env, "S3_CA_BUNDLE="+ca)
	}
	cmd := exec.Command(python, "testdata/s3_clients.py")
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	text := out.String()
	if err != nil {
		t.Fatalf("%s testdata/s3_clients.py: %v\n%s", python, err, text)
	}
	t.Logf("%s: %d checks passed in %v:\n%s", python, strings.Count(text, "\nok:"), time.Since(start).Round(time.Millisecond), text)
	return text
}
