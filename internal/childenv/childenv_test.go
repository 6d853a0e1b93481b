package childenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
)

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestBuildCleansWhatOutranksTheEndpoint(t *testing.T) {
	base := []string{"PATH=/usr/bin", "HOME=/home/u", "AWS_REGION=eu-west-1"}
	for _, k := range Unset {
		base = append(base, k+"=stale")
	}
	r, err := Build(Options{Base: base, Dir: t.TempDir(),
		Endpoint: []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN=tok"}})
	if err != nil {
		t.Fatal(err)
	}
	env := envMap(r.Env)
	for _, k := range Unset {
		if env[k] == "stale" {
			t.Errorf("%s reaches the child", k)
		}
	}
	if env["PATH"] != "/usr/bin" || env["AWS_REGION"] != "eu-west-1" || env["HOME"] != "/home/u" {
		t.Errorf("unrelated variables were lost: %v", env)
	}
	if env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != "http://127.0.0.1:1/creds" || env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] != "tok" ||
		env["AWS_EC2_METADATA_DISABLED"] != "true" {
		t.Errorf("endpoint variables: %v", env)
	}
	if b, _ := os.ReadFile(env["AWS_SHARED_CREDENTIALS_FILE"]); len(b) != 0 {
		t.Error("the credentials file is not empty")
	}
	if env["BOTO_CONFIG"] != env["AWS_SHARED_CREDENTIALS_FILE"] {
		t.Error("BOTO_CONFIG does not neutralise ~/.boto")
	}
	if n := strings.Count(strings.Join(r.Env, "\n"), "AWS_CONTAINER_CREDENTIALS_FULL_URI="); n != 1 {
		t.Errorf("FULL_URI set %d times", n)
	}
}

func TestGeneratedConfigKeepsSettingsNotCredentials(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte(`[sso-session corp]
sso_start_url = https://d-1.awsapps.com/start
sso_region = us-east-1

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev
region = eu-central-1
retry_mode = adaptive
max_attempts = 7
ca_bundle = /etc/ssl/corp.pem
ssokeep_session_duration = 8h
s3 =
  addressing_style = path
  max_concurrent_requests = 20
`), 0o600)
	cfg, err := awsconfig.Load(awsconfig.Files{Config: src})
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Resolve("dev")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.WriteFile(out, []byte(ConfigFile(p.Settings)), 0o600)
	gen, err := awsconfig.Load(awsconfig.Files{Config: out})
	if err != nil {
		t.Fatalf("generated config does not load: %v\n%s", err, ConfigFile(p.Settings))
	}
	d, err := gen.Resolve("default")
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != awsconfig.KindNone {
		t.Errorf("the child's default profile has credentials of kind %s", d.Kind)
	}
	for k, want := range map[string]string{"region": "eu-central-1", "retry_mode": "adaptive", "max_attempts": "7", "ca_bundle": "/etc/ssl/corp.pem"} {
		if d.Settings[k] != want {
			t.Errorf("%s = %q, want %q", k, d.Settings[k], want)
		}
	}
	if !strings.Contains(d.Settings["s3"], "addressing_style = path") || !strings.Contains(d.Settings["s3"], "max_concurrent_requests = 20") {
		t.Errorf("s3 block lost: %q", d.Settings["s3"])
	}
	for _, k := range []string{"sso_session", "sso_account_id", "ssokeep_session_duration"} {
		if _, ok := d.Settings[k]; ok {
			t.Errorf("%s copied to the child's config", k)
		}
	}
}

// botocore itself (1.43 from python3, 1.29 from Debian's /usr/bin/python3),
// given the child's environment, must pick the container provider and read
// the region from the generated config.
func TestBotocoreChoosesTheEndpoint(t *testing.T) {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		t.Run(py, func(t *testing.T) { botocoreChoosesTheEndpoint(t, py) })
	}
}

func botocoreChoosesTheEndpoint(t *testing.T, py string) {
	py, err := exec.LookPath(py)
	if err != nil || exec.Command(py, "-c", "import botocore").Run() != nil {
		t.Skipf("%s with botocore is not installed", py)
	}
	home := t.TempDir()
	// A hostile home: SSO default profile, static keys, ~/.boto.
	os.MkdirAll(filepath.Join(home, ".aws"), 0o700)
	os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[default]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n"), 0o600)
	os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[default]\naws_access_key_id = AKIASTATIC\naws_secret_access_key = x\n"), 0o600)
	os.WriteFile(filepath.Join(home, ".boto"), []byte("[Credentials]\naws_access_key_id = AKIABOTO\naws_secret_access_key = y\n"), 0o600)
	base := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_PROFILE=default", "AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=z"}
	r, err := Build(Options{Base: base, Dir: t.TempDir(), Settings: map[string]string{"region": "ap-southeast-2"},
		Endpoint: []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN=t"}})
	if err != nil {
		t.Fatal(err)
	}
	script := `import botocore.session
s = botocore.session.Session()
first = 'none'
for p in s.get_component('credential_provider').providers:
    # Every provider ranked above the container one must find nothing;
    # the container provider's load() would call the (absent) endpoint.
    if p.METHOD == 'container-role' or p.load() is not None:
        first = p.METHOD
        break
print(first, s.get_config_variable('region'))`
	cmd := exec.Command(py, "-c", script)
	cmd.Env = r.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "container-role ap-southeast-2" {
		t.Errorf("botocore picked %q, want the container provider and the profile's region", got)
	}
}
