//go:build unix

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

// longRun is what one long job did, from its own report and the emulator's.
type longRun struct {
	e        *emu
	d        time.Duration
	r        jobResult
	rep      childReport
	secrets  int // secrets the child wrote
	st       emulator.Stats
	sessions sessionCount
	// sda counts StartDeviceAuthorization calls: the test's login and the
	// keeper's background ones.
	sda, approvedEvents   int
	hookApproved, ignored []string
}

// runLong starts an emulator, logs in and runs the job under `ssokeep exec`
// for d, with `ssokeep status` running alongside; execEnv goes to ssokeep.
func runLong(t *testing.T, j longJob, d time.Duration, execEnv ...string) *longRun {
	e := startEmulator(t, j.faults...)
	e.login(t)
	secrets := filepath.Join(e.home, "child-secrets")
	argv, env := j.child(childSetup{secrets: secrets, d: d, s3URL: e.url})

	stop := make(chan struct{})
	watched := e.watch(t, stop)
	r := e.run(t, d+2*time.Minute, append(execEnv, env...), argv...)
	close(stop)
	<-watched

	lr := &longRun{e: e, d: d, r: r}
	lr.secrets = e.addSecretsFile(t, secrets, "secret the child held")
	lr.rep = e.parseReport(t, r.stdout, r.stderr)
	lr.st = e.stats(t)
	evs := e.events()
	lr.sessions = countSessions(evs, r.ended)
	lr.sda = lr.st.Operations["StartDeviceAuthorization"].Requests
	lr.approvedEvents = countEvents(evs, emulator.Approved)
	lr.hookApproved, lr.ignored = e.hookCodes()
	return lr
}

// log prints the scenario's figures.
func (lr *longRun) log(t *testing.T) {
	rep, st, s := lr.rep, lr.st, lr.sessions
	grc, ct := st.Operations["GetRoleCredentials"], st.Operations["CreateToken"]
	t.Logf("%s %s (%d workers): %.0f s wall (child %.0f s): %d calls %v, %d failed, longest stretch without a success %.1f s; %d rotations (distinct access keys the child signed with; %d clients built); "+
		"%d session ends during the job (%d sessions, each new one %v after the end); logins: %d StartDeviceAuthorization (1 + %d background), "+
		"%d approvals (%d by the notify hook, %d codes ignored), %d Approved events; upstream GetRoleCredentials %d (%d faulted), CreateToken %d (%d faulted)",
		rep.Client, rep.Boto3, rep.Workers, lr.r.ended.Sub(lr.r.started).Seconds(), rep.Seconds, rep.Calls, rep.ByOperation, rep.Failures, rep.LongestPause,
		len(rep.AccessKeys), rep.ClientsBuilt, s.endedBy, s.started, s.gaps, lr.sda, lr.sda-1,
		1+len(lr.hookApproved), len(lr.hookApproved), len(lr.ignored), lr.approvedEvents, grc.Requests, grc.Faults, ct.Requests, ct.Faults)
}

// survive runs a long job under `ssokeep exec` across session ends and
// checks what the issue promises: no failed call, the job's exit code, new
// credentials all along, one background login per session end, no secret
// in ssokeep's output.
// maxPause is the longest a job may go without a successful call: room for
// a loaded CI machine starving the child of CPU, and well under what a job
// left without credentials shows (the control run: over 20 s by design, since
// its calls fail for the last 20 s).
const maxPause = 15 * time.Second

func survive(t *testing.T, j longJob) {
	d := jobDuration()
	lr := runLong(t, j, d)
	lr.log(t)
	e, r, rep, sessions := lr.e, lr.r, lr.rep, lr.sessions
	relogins := lr.sda - 1 // the first is the test's own login

	// The job ran to its end and ssokeep passed its exit code on.
	if r.code != 0 {
		t.Errorf("ssokeep exec exited %d, want the child's 0\nstderr:\n%s", r.code, e.redact(r.stderr))
	}
	if rep.Seconds < d.Seconds()-1 {
		t.Errorf("the child ran %.0f s, want %.0f s", rep.Seconds, d.Seconds())
	}
	// Continuously, and not one call failed (retries are off in the child).
	if rep.Failures != 0 {
		t.Errorf("the child saw failures: %s", e.redact(rep.describe()))
	}
	// Continuity is the longest stretch without a successful call, not a
	// rate: a loaded CI machine slows boto3 down without pausing the job.
	if rep.LongestPause > maxPause.Seconds() {
		t.Errorf("the job went %.1f s without a successful call (at most %v): it did not run continuously (%s)",
			rep.LongestPause, maxPause, e.redact(rep.describe()))
	}
	for _, op := range []string{"PutObject", "GetObject", "ListObjectsV2"} {
		if rep.ByOperation[op] == 0 {
			t.Errorf("no %s call: the job did not do its work (%s)", op, e.redact(rep.describe()))
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
	if want := int(d / sessionLife); sessions.endedBy < want {
		t.Errorf("%d sign-in sessions ended during the %v job, want at least %d: the test did not cross session ends", sessions.endedBy, d, want)
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
		if len(lr.hookApproved) != relogins || lr.approvedEvents != lr.sda || sessions.started != lr.sda {
			t.Errorf("%d StartDeviceAuthorization, %d hook approvals (+1 by the test), %d Approved events, %d sessions started: want one of each per login",
				lr.sda, len(lr.hookApproved), lr.approvedEvents, sessions.started)
		}
	}
	grc, ct := lr.st.Operations["GetRoleCredentials"], lr.st.Operations["CreateToken"]
	if len(j.faults) > 0 && (grc.Faults == 0 || ct.Faults == 0) {
		t.Errorf("faults in force but none fired (GetRoleCredentials %d, CreateToken %d): the scenario proves nothing", grc.Faults, ct.Faults)
	}

	// No secret in anything ssokeep printed. The child's secrets: the
	// session tokens and secret keys it signed with, the endpoint's token;
	// the cache's: access and refresh tokens, the client secret.
	if lr.secrets < len(rep.AccessKeys) {
		t.Errorf("the child reported %d secrets for %d access keys", lr.secrets, len(rep.AccessKeys))
	}
	e.assertNoSecrets(t, lr.secrets+3)
}

// childSetup is what a child is told: where to write the secrets it signed
// with, how long to run, and the emulator's S3 URL.
type childSetup struct {
	secrets string
	d       time.Duration
	s3URL   string
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

// goChild is testdata/gochild with n S3 workers (Metaflow runs 64).
func goChild(n int) func(childSetup) ([]string, []string) {
	return func(c childSetup) ([]string, []string) {
		return []string{bin.gochild, "-duration", c.d.String(), "-workers", fmt.Sprint(n), "-pause", "500ms", "-secrets", c.secrets}, nil
	}
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
	survive(t, longJob{child: goChild(64), source: "CredentialsEndpointProvider", exactLogins: true, minRotations: 10})
}

// The same with one upstream call in five failing: the job sees none of it.
func TestSurvivalGoUpstreamFaults(t *testing.T) {
	t.Parallel()
	survive(t, longJob{child: goChild(64), source: "CredentialsEndpointProvider", minRotations: 10,
		faults: []string{"GetRoleCredentials:rate=0.2,error=TooManyRequestsException", "CreateToken:rate=0.2,error=500"}})
}

// The control: the same job when nobody approves the login after the
// session ends. It must fail, and only once the credentials ssokeep held at
// the end have run out: the survival tests above can fail, and the job's
// grace after a session end is the last credentials' lifetime.
func TestControlNobodyApproves(t *testing.T) {
	t.Parallel()
	d := sessionLife + roleLife + 20*time.Second
	lr := runLong(t, longJob{child: goChild(8), source: "CredentialsEndpointProvider"}, d, "SURVIVAL_APPROVE=no")
	lr.log(t)
	rep, s := lr.rep, lr.sessions
	if rep.Failures == 0 || rep.FirstFailure == 0 {
		t.Fatalf("nobody approved the login after the session ended, yet the job saw no failure in %v: %s", d, lr.e.redact(rep.describe()))
	}
	if rep.LongestPause <= maxPause.Seconds() {
		t.Errorf("the job's longest stretch without a successful call was %.1f s, within the %v the survival runs allow: that check cannot fail",
			rep.LongestPause, maxPause)
	}
	if len(lr.ignored) == 0 || len(lr.hookApproved) != 0 || s.started != 1 || lr.sda < 2 {
		t.Errorf("want a background login the hook was told about and ignored, and no second session: hook ignored %d, approved %d; %d sessions, %d StartDeviceAuthorization",
			len(lr.ignored), len(lr.hookApproved), s.started, lr.sda)
	}
	// The job started after exec did, so this is an upper bound on when
	// the first call failed.
	first := lr.r.started.Add(time.Duration(rep.FirstFailure * float64(time.Second)))
	var end time.Time
	for _, ev := range lr.e.events() {
		if ev.kind == string(emulator.SessionStarted) {
			end = ev.ends
			break
		}
	}
	after := first.Sub(end)
	t.Logf("with nobody approving, the first call failed %v after the session ended (role credentials last %v); %d of %d calls failed",
		after.Round(time.Second), roleLife, rep.Failures, rep.Calls)
	if after <= 0 {
		t.Errorf("the first call failed %v before the session ended: the job should run on the credentials ssokeep holds until they run out", -after)
	}
	lr.e.assertNoSecrets(t, lr.secrets+3)
}
