package survival

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
)

// A long job: the child, the credential source it must report, and how
// strictly logins are counted.
type longJob struct {
	// argv and env of the child.
	child  func(c childSetup) (argv, env []string)
	source string // the only credential source the child may report
	faults []string
	// exactLogins: one login per session end and none other. With upstream
	// faults a login may be retried with a new code, so only "at least one
	// per end" holds.
	exactLogins bool
	// minRotations is the least number of distinct access keys the child
	// must have signed with in a full (not -short) run.
	minRotations int
}

// survive runs a long job under `ssokeep exec` across session ends and
// checks what the issue promises: no failed call, the job's exit code, new
// credentials all along, one background login per session end, no secret
// in ssokeep's output.
func survive(t *testing.T, j longJob) {
	e := startEmulator(t, j.faults...)
	e.login(t)
	d := jobDuration()
	secrets := filepath.Join(e.home, "child-secrets")
	argv, env := j.child(childSetup{secrets: secrets, d: d, s3URL: e.url})

	stop := make(chan struct{})
	watched := e.watch(t, stop)
	r := e.run(t, d+2*time.Minute, env, argv...)
	close(stop)
	<-watched

	rep := parseReport(t, r.stdout, r.stderr)
	st := e.stats(t)
	evs := e.events()
	sessions := countSessions(evs, r.ended)
	sda := st.Operations["StartDeviceAuthorization"].Requests
	relogins := sda - 1 // the first is the test's own login
	hook := e.hookApprovals()
	approvedEvents := countEvents(evs, emulator.Approved)
	grc := st.Operations["GetRoleCredentials"]
	ct := st.Operations["CreateToken"]
	wall := r.ended.Sub(r.started)

	t.Logf("%s %s%s: %.0f s wall (child %.0f s): %d calls %v, %d failed; %d rotations (distinct access keys the child signed with; %d clients built); "+
		"%d session ends during the job (%d sessions); logins: %d StartDeviceAuthorization (1 + %d background), %d approvals (%d by the notify hook), %d Approved events; "+
		"upstream GetRoleCredentials %d (%d faulted), CreateToken %d (%d faulted)",
		rep.Client, rep.Boto3, workersNote(rep), wall.Seconds(), rep.Seconds, rep.Calls, rep.ByOperation, rep.Failures,
		len(rep.AccessKeys), rep.ClientsBuilt, sessions.endedBy, sessions.started, sda, relogins, 1+len(hook), len(hook), approvedEvents,
		grc.Requests, grc.Faults, ct.Requests, ct.Faults)

	// The job ran to its end and ssokeep passed its exit code on.
	if r.code != 0 {
		t.Errorf("ssokeep exec exited %d, want the child's 0\nstderr:\n%s", r.code, r.stderr)
	}
	if rep.Seconds < d.Seconds()-1 {
		t.Errorf("the child ran %.0f s, want %.0f s", rep.Seconds, d.Seconds())
	}
	// Continuously, and not one call failed (retries are off in the child).
	if rep.Failures != 0 {
		t.Errorf("the child saw failures: %s", rep.describe())
	}
	for _, op := range []string{"PutObject", "GetObject", "ListObjectsV2"} {
		if rep.ByOperation[op] < int(d.Seconds()) {
			t.Errorf("%d %s calls in %v: the job did not run continuously (%s)", rep.ByOperation[op], op, d, rep.describe())
		}
	}
	// Only from ssokeep's endpoint, never from a profile or the SSO cache.
	if !slices.Equal(rep.CredentialSources, []string{j.source}) {
		t.Errorf("the child's credentials came from %v, want only %s (ssokeep's endpoint)", rep.CredentialSources, j.source)
	}
	// New credentials all along: role credentials last 30 s, so a job that
	// got no new ones would have failed after the first 30 s; count them.
	minRot := j.minRotations
	if testing.Short() {
		minRot = int(d / roleLife)
	}
	if len(rep.AccessKeys) < minRot {
		t.Errorf("the child signed with %d distinct access keys in %v, want at least %d", len(rep.AccessKeys), d, minRot)
	}
	// Session ends: the job must have outlived them.
	wantEnds := int(d / sessionLife)
	if sessions.endedBy < wantEnds {
		t.Errorf("%d sign-in sessions ended during the %v job, want at least %d: the test did not cross session ends", sessions.endedBy, d, wantEnds)
	}
	// Logins: every end that had time to be noticed was followed by a login,
	// and no login came without an end.
	if relogins < sessions.endedSettled || sessions.started < 1+sessions.endedSettled {
		t.Errorf("%d background logins and %d sessions for %d session ends (%d of them over %v before the job ended): a session end went unanswered",
			relogins, sessions.started, sessions.endedBy, sessions.endedSettled, settle)
	}
	if j.exactLogins {
		if relogins > sessions.endedBy {
			t.Errorf("%d background logins for %d session ends: a login without a session end", relogins, sessions.endedBy)
		}
		// Each login was approved once, by the hook, and started a new
		// session (an approval while a session is alive starts none).
		if len(hook) != relogins || approvedEvents != sda || sessions.started != sda {
			t.Errorf("%d StartDeviceAuthorization, %d hook approvals (+1 by the test), %d Approved events, %d sessions started: want one of each per login",
				sda, len(hook), approvedEvents, sessions.started)
		}
	}
	if len(j.faults) > 0 && (grc.Faults == 0 || ct.Faults == 0) {
		t.Errorf("faults in force but none fired (GetRoleCredentials %d, CreateToken %d): the scenario proves nothing", grc.Faults, ct.Faults)
	}

	// No secret in anything ssokeep printed. The child's secrets: the
	// session tokens and secret keys it signed with; the cache's: access
	// and refresh tokens, the client secret.
	n := e.addSecretsFile(t, secrets, "secret the child signed with")
	if n < len(rep.AccessKeys) {
		t.Errorf("the child reported %d secrets for %d access keys", n, len(rep.AccessKeys))
	}
	e.assertNoSecrets(t, n+3)
}

// childSetup is what a child is told: where to write the secrets it signed
// with, how long to run, and the emulator's S3 URL.
type childSetup struct {
	secrets string
	d       time.Duration
	s3URL   string
}

func workersNote(r childReport) string {
	return fmt.Sprintf(" (%d workers)", r.Workers)
}

// pythonChild is testdata/s3child.py under an interpreter.
// With explicitEndpoint it passes the S3 endpoint in its own variable.
func pythonChild(py string, explicitEndpoint bool) func(childSetup) ([]string, []string) {
	return func(c childSetup) ([]string, []string) {
		script, _ := filepath.Abs(filepath.Join("testdata", "s3child.py"))
		env := []string{
			"SURVIVAL_DURATION=" + fmt.Sprint(c.d.Seconds()), "SURVIVAL_WORKERS=4", "SURVIVAL_PAUSE=0.2",
			"SURVIVAL_BUCKET=survival", "SURVIVAL_SECRETS_FILE=" + c.secrets,
		}
		if explicitEndpoint {
			env = append(env, "SURVIVAL_S3_ENDPOINT="+c.s3URL)
		}
		return []string{py, script}, env
	}
}

// goChild is testdata/gochild with Metaflow's 64 S3 workers.
func goChild(c childSetup) ([]string, []string) {
	return []string{bin.gochild, "-duration", c.d.String(), "-workers", "64", "-pause", "500ms", "-secrets", c.secrets}, nil
}

// boto3 1.43 (the python3 on PATH), which reads AWS_ENDPOINT_URL_S3.
func TestSurvivalBoto3Current(t *testing.T) {
	t.Parallel()
	py, v := python(t, "python3")
	t.Logf("python3 is %s with %s", py, v)
	survive(t, longJob{child: pythonChild(py, false), source: "container-role", exactLogins: true, minRotations: 10})
}

// Debian's boto3 1.26 / botocore 1.29 ignores AWS_ENDPOINT_URL_*: the job
// passes endpoint_url from its own variable, which exec keeps. Its
// credentials still come only from ssokeep's endpoint.
func TestSurvivalBoto3Debian(t *testing.T) {
	t.Parallel()
	py, v := python(t, "/usr/bin/python3")
	t.Logf("/usr/bin/python3 is %s with %s", py, v)
	survive(t, longJob{child: pythonChild(py, true), source: "container-role", exactLogins: true, minRotations: 10})
}

// aws-sdk-go-v2 with 64 concurrent workers, each with its own client.
func TestSurvivalGo64Workers(t *testing.T) {
	t.Parallel()
	survive(t, longJob{child: goChild, source: "CredentialsEndpointProvider", exactLogins: true, minRotations: 10})
}

// The same with one upstream call in five failing: the job sees none of it.
func TestSurvivalGoUpstreamFaults(t *testing.T) {
	t.Parallel()
	survive(t, longJob{child: goChild, source: "CredentialsEndpointProvider", minRotations: 10,
		faults: []string{"GetRoleCredentials:rate=0.2,error=TooManyRequestsException", "CreateToken:rate=0.2,error=500"}})
}
