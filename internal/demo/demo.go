// Package demo is `ssokeep demo`: a compressed-time rehearsal, on a machine
// with no AWS account, of a job that outlives its IAM Identity Center
// sign-in session. It starts the emulator in-process with lifetimes of
// seconds, logs in to it from a throwaway cache, and runs a job exactly as
// `ssokeep exec` does (jobrun.Run under a keeper) while it draws the three
// clocks, the keeper's and the emulator's events, and the job's calls. Each
// re-login is shown as the notification a person would get and approved
// after a pause, as that person would.
//
// Nothing here reads or writes the user's ~/.aws: the config, the token
// cache and ssokeep's state live in a temporary directory removed at the end.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/jobrun"
	"github.com/ssokeep/ssokeep/internal/keeper"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/logins"
	"github.com/ssokeep/ssokeep/internal/notify"
	"github.com/ssokeep/ssokeep/internal/serve"
	"github.com/ssokeep/ssokeep/internal/source"
	"github.com/ssokeep/ssokeep/internal/ssocache"
	"github.com/ssokeep/ssokeep/internal/termui"
)

// DefaultBucket is the bucket the demo creates in the emulator's S3 for the
// job (SSOKEEP_DEMO_BUCKET in the job's environment).
const DefaultBucket = "ssokeep-demo"

// Options describe one demo.
type Options struct {
	Schedule Schedule
	// Job is the command to run. Sample says it is the sample job, which
	// reports its calls as JSON lines on stdout; any other command is the
	// user's, rehearsed against the emulator.
	Job    []string
	Sample bool
	Bucket string   // default DefaultBucket
	Base   []string // the environment the job's is cleaned from (os.Environ())

	Out   io.Writer // where the view goes
	Live  bool      // draw the live view (Out is a terminal); otherwise one line per event
	Size  func() (width, height int)
	Color bool
	// JobOutput receives the user's job's output in the line view (the live
	// view shows its last lines instead). Nil: Out.
	JobOutput io.Writer

	// Notifier, if set, also gets the events a person is told about, so the
	// demo can try the user's desktop, webhook or command hook.
	Notifier notify.Notifier
	Signals  []os.Signal // forwarded to the job (Ctrl-C)
	Now      func() time.Time
	Redraw   time.Duration // live view refresh (default 250 ms)
}

// Summary is the demo's result; `ssokeep demo --json` prints it.
type Summary struct {
	Calls            int64        `json:"calls"`  // the job's AWS calls
	Failed           int64        `json:"failed"` // calls that failed (sample job) or the emulator refused (own job)
	Objects          int          `json:"objects,omitempty"`
	Rotations        int          `json:"rotations"` // new role credential sets after the first
	TokenRefreshes   int          `json:"tokenRefreshes"`
	SessionEnds      int          `json:"sessionEnds"`
	Logins           int          `json:"logins"` // logins approved while the job ran: one per session end
	LoginPending     bool         `json:"loginPending"`
	JobExitCode      int          `json:"jobExitCode"`
	Interrupted      bool         `json:"interrupted"`
	SampleJob        bool         `json:"sampleJob"`
	CredentialSource string       `json:"credentialSource,omitempty"`
	EmulatorCalls    int64        `json:"emulatorCalls"`   // the job's calls as the emulator counted them
	EmulatorRefused  int64        `json:"emulatorRefused"` // of those, answered with an unexpected error
	Seconds          float64      `json:"seconds"`
	Schedule         scheduleJSON `json:"schedule"`
}

type scheduleJSON struct {
	Speed          float64 `json:"speed"`
	SessionSeconds float64 `json:"sessionSeconds"`
	TokenSeconds   float64 `json:"tokenSeconds"`
	RoleSeconds    float64 `json:"roleSeconds"`
	JobSeconds     float64 `json:"jobSeconds"`
}

// OK reports whether the job ran to its end with nothing failed.
func (s Summary) OK() bool {
	return s.Failed == 0 && s.JobExitCode == 0 && !s.Interrupted
}

// Run runs the demo to the job's end (or ctx's) and returns what happened.
// The error is for a demo that could not run at all.
func Run(ctx context.Context, o Options) (Summary, error) {
	if len(o.Job) == 0 {
		return Summary{}, errors.New("demo: no job to run")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if o.Redraw <= 0 {
		o.Redraw = 250 * time.Millisecond
	}
	if o.Size == nil {
		o.Size = func() (int, int) { return 100, 40 }
	}
	if o.JobOutput == nil {
		o.JobOutput = o.Out
	}
	sched := o.Schedule
	st := newState(o.Now, sched)
	// Warnings of the keeper and friends become timeline entries: a log
	// line would tear the live view.
	logger := slog.New(&warnings{st: st})

	// The view first, so everything after it shows; stop restores the
	// terminal however Run returns.
	v := startView(o, st)
	defer v.stop()

	d, err := setUp(o, st, logger)
	if err != nil {
		return Summary{}, err
	}
	defer d.close()
	v.counter.Store(d.counter)

	approvals, cancelApprovals := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancelApprovals(); wg.Wait() }()
	approve := func(code string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(sched.Pause)
			defer t.Stop()
			select {
			case <-approvals.Done():
				return
			case <-t.C:
			}
			st.Approving(code, d.emu.Approve(code))
		}()
	}

	tok, err := d.manager.DeviceLogin(ctx, d.session, login.Options{}, func(a login.DeviceAuth) {
		st.Prompt(a.VerificationURIComplete, a.UserCode)
		approve(a.UserCode)
	})
	if err != nil {
		return Summary{Interrupted: ctx.Err() != nil}, fmt.Errorf("demo: the first login did not complete: %w", err)
	}
	st.FirstLogin(tok.ExpiresAt)

	k := keeper.New(keeper.Options{Profile: d.profile.Name, Session: &d.session, MaxSession: sched.keeperMaxSession(),
		Manager: d.manager, Now: o.Now, Logger: logger,
		Credentials: &source.SSORole{Session: d.session, AccountID: d.profile.SSO.AccountID, RoleName: d.profile.SSO.RoleName,
			Token: source.ManagerTokens(d.manager, 0), Client: d.portal},
		OnEvent: func(e keeper.Event) {
			st.Keeper(e)
			if e.Kind == keeper.LoginRequired {
				approve(e.UserCode)
			}
			if kind, ok := humanEvents[e.Kind]; ok && o.Notifier != nil {
				go o.Notifier.Notify(context.Background(), notify.Event{Kind: kind, Profile: e.Profile, Session: e.Session,
					VerificationURL: e.VerificationURL, UserCode: e.UserCode, Deadline: e.Deadline, Message: e.Message})
			}
		}})
	// The first set, before the job: the demo creates the job's bucket with it.
	k.Step(ctx)
	if err := d.createBucket(ctx, k, o.Bucket); err != nil {
		return Summary{Interrupted: ctx.Err() != nil}, err
	}

	reports := &lineWriter{fn: func(l string) {
		if r, ok := parseReport(l); ok && o.Sample {
			st.Report(r)
			return
		}
		v.output(l)
	}}
	errs := &lineWriter{fn: v.output}
	label := "your command: " + strings.Join(o.Job, " ")
	if o.Sample {
		label = fmt.Sprintf("sample job: workers put → list → get on s3://%s", o.Bucket)
	}
	d.counter.on.Store(true)
	started := o.Now()
	st.JobStarted(label)
	code, err := jobrun.Run(ctx, jobrun.Options{Keeper: k, Argv: o.Job, Base: o.Base, Extra: d.jobEnv(o.Bucket),
		Settings: d.profile.Settings, Stdout: reports, Stderr: errs, Signals: o.Signals, Logger: logger, Now: o.Now,
		Ready: func(srv *serve.Server) { st.Endpoint(d.emu.URL(), srv.URL("")) }})
	reports.Flush()
	errs.Flush()
	var se *jobrun.StartError
	switch {
	case errors.As(err, &se):
		st.JobDone(code, err)
	case err != nil:
		return Summary{}, err
	default:
		st.JobDone(code, nil)
	}
	st.EmulatorCalls(d.counter.calls.Load(), d.counter.refused.Load())
	v.finish()
	return summarize(st.Snapshot(), o, o.Now().Sub(started), ctx.Err() != nil), nil
}

// humanEvents are the keeper events a person is told about (as exec does).
var humanEvents = map[keeper.EventKind]notify.Kind{
	keeper.LoginRequired: notify.LoginRequired, keeper.LoginReminder: notify.LoginReminder,
	keeper.LoginApproved: notify.LoginApproved, keeper.SessionEnding: notify.SessionEnding,
	keeper.SessionEnded: notify.SessionEnded,
}

func summarize(s Snapshot, o Options, ran time.Duration, interrupted bool) Summary {
	sc := o.Schedule
	sum := Summary{Rotations: max(s.Rotations-1, 0), TokenRefreshes: s.Refreshes, SessionEnds: s.SessionEnds,
		Logins: s.Logins, LoginPending: s.Pending != nil, JobExitCode: s.JobExit, Interrupted: interrupted,
		SampleJob: o.Sample, EmulatorCalls: s.EmulatorCalls, EmulatorRefused: s.EmulatorRefused,
		Seconds: ran.Round(time.Millisecond).Seconds(),
		Schedule: scheduleJSON{Speed: sc.Speed, SessionSeconds: sc.Session.Seconds(), TokenSeconds: sc.Token.Seconds(),
			RoleSeconds: sc.Role.Seconds(), JobSeconds: sc.Job.Seconds()}}
	if o.Sample {
		sum.Calls, sum.Failed, sum.Objects, sum.CredentialSource = s.Job.Calls, s.Job.Failed, s.Job.Keys, s.Job.Source
		if !s.Job.Done && sum.JobExitCode == 0 {
			sum.JobExitCode = 1 // it never said it finished
		}
	} else {
		sum.Calls, sum.Failed = s.EmulatorCalls, s.EmulatorRefused
	}
	return sum
}

// WriteText prints the summary for people.
func (s Summary) WriteText(w io.Writer) {
	verdict := "nothing failed"
	switch {
	case s.Interrupted:
		verdict = "interrupted"
	case !s.OK():
		verdict = "SOMETHING FAILED"
	}
	ran := time.Duration(s.Seconds * float64(time.Second)).Round(time.Second)
	fmt.Fprintf(w, "\nssokeep demo: %s.\n", verdict)
	fmt.Fprintf(w, "  job       %d AWS calls, %d failed", s.Calls, s.Failed)
	if s.Objects > 0 {
		fmt.Fprintf(w, ", %d objects", s.Objects)
	}
	fmt.Fprintf(w, ", ran %s\n", ran)
	fmt.Fprintf(w, "  keeper    %d credential rotations, %d token refreshes, all ahead of need\n", s.Rotations, s.TokenRefreshes)
	fmt.Fprintf(w, "  sessions  %d ended, %d logins approved", s.SessionEnds, s.Logins)
	if s.LoginPending {
		fmt.Fprint(w, " (one more was waiting when the job ended)")
	}
	fmt.Fprintln(w)
	switch {
	case s.Interrupted:
		fmt.Fprintln(w, "  Interrupted before the job's end.")
	case s.JobExitCode != 0:
		fmt.Fprintf(w, "  The job exited with code %d.\n", s.JobExitCode)
	case s.SampleJob && s.OK() && s.Schedule.SessionSeconds > 0:
		equiv := time.Duration(float64(ran) * float64(8*time.Hour) / (s.Schedule.SessionSeconds * float64(time.Second)))
		fmt.Fprintf(w, "  With 8-hour sessions this was a %s job. Run yours the same way:\n    ssokeep exec -p PROFILE -- COMMAND\n",
			termui.Duration(equiv.Round(time.Hour)))
	}
}

// world is what one demo sets up: the emulator, a throwaway AWS config and
// cache, and clients that reach only the emulator.
type world struct {
	dir     string
	emu     *emulator.Server
	counter *callCounter
	profile *awsconfig.Profile
	session login.Session
	manager *login.Manager
}

func setUp(o Options, st *state, logger *slog.Logger) (w *world, err error) {
	sched := o.Schedule
	w = &world{counter: &callCounter{}}
	if w.dir, err = os.MkdirTemp("", "ssokeep-demo-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	w.emu, err = emulator.New(emulator.Options{Now: o.Now, Logger: slog.New(w.counter), OnEvent: st.Emulator,
		SessionDuration: sched.Session, TokenLifetime: sched.Token, RoleDuration: sched.Role, Approve: emulator.Manual})
	if err != nil {
		return nil, err
	}
	if err := w.emu.Start(); err != nil {
		w.emu = nil
		return nil, err
	}
	st.Endpoint(w.emu.URL(), "")

	// The profile comes from a real config file, read as exec reads one.
	awsDir := filepath.Join(w.dir, "aws")
	if err := os.MkdirAll(awsDir, 0o700); err != nil {
		return nil, err
	}
	files := awsconfig.Files{Config: filepath.Join(awsDir, "config"), Credentials: filepath.Join(awsDir, "credentials")}
	if err := os.WriteFile(files.Config, []byte(w.emu.AWSConfig()), 0o600); err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(files)
	if err != nil {
		return nil, err
	}
	if w.profile, err = cfg.Resolve(emulator.ProfileName); err != nil {
		return nil, err
	}
	if w.profile.SSO == nil {
		return nil, fmt.Errorf("demo: the emulator's profile %s has no SSO settings", emulator.ProfileName)
	}
	w.session = login.SessionOf(w.profile.Name, w.profile.SSO)
	cache := ssocache.Dir{Path: filepath.Join(awsDir, "sso", "cache")}
	w.manager = &login.Manager{Cache: cache, Roles: ssocache.RoleCache{Path: filepath.Join(awsDir, "cli", "cache")},
		Logins: logins.In(cache.StateDir()), Clients: w.clients, Now: o.Now, Logger: logger, ClientName: "ssokeep-demo"}
	return w, nil
}

func (w *world) close() {
	if w.emu != nil {
		w.emu.Close()
	}
	os.RemoveAll(w.dir)
}

// clients are SSO OIDC and portal clients for the emulator alone: built
// from options, not from the shared config, so nothing of ~/.aws is read.
func (w *world) clients(_ context.Context, region string) (*login.Clients, error) {
	u := w.emu.URL()
	return &login.Clients{OIDC: ssooidc.New(ssooidc.Options{Region: region, BaseEndpoint: aws.String(u)}),
		Portal: sso.New(sso.Options{Region: region, BaseEndpoint: aws.String(u)}), AuthorizeURL: u}, nil
}

func (w *world) portal(_ context.Context, region string) (source.GetRoleCredentialsAPI, error) {
	return sso.New(sso.Options{Region: region, BaseEndpoint: aws.String(w.emu.URL())}), nil
}

// createBucket makes the job's bucket with the keeper's first set.
func (w *world) createBucket(ctx context.Context, k *keeper.Keeper, bucket string) error {
	creds, ok := k.Current()
	if !ok {
		return fmt.Errorf("demo: no role credentials from the emulator: %s", k.Status().LastError)
	}
	c := s3.New(s3.Options{Region: w.emu.Region(), BaseEndpoint: aws.String(w.emu.URL()), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("demo: creating bucket %s in the emulator: %w", bucket, err)
	}
	return nil
}

// jobEnv points every AWS client in the job at the emulator, and says where
// the bucket is. AWS_ENDPOINT_URL covers services the emulator lacks, so a
// rehearsal never reaches real AWS; the Metaflow settings make a flow run
// with --datastore=s3 keep its data in the emulator.
func (w *world) jobEnv(bucket string) []string {
	u := w.emu.URL()
	return append(w.emu.Env(),
		"AWS_ENDPOINT_URL="+u,
		"SSOKEEP_DEMO_BUCKET="+bucket,
		"METAFLOW_S3_ENDPOINT_URL="+u,
		"METAFLOW_DATASTORE_SYSROOT_S3=s3://"+bucket+"/metaflow",
		"METAFLOW_DATATOOLS_S3ROOT=s3://"+bucket+"/data",
	)
}

// warnings is a slog.Handler that turns warnings into timeline entries.
type warnings struct {
	st    *state
	attrs []slog.Attr
}

func (h *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *warnings) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	add := func(a slog.Attr) bool {
		if a.Key == "err" {
			msg += ": " + a.Value.String()
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.st.Entry(MarkWarn, "%s", msg)
	return nil
}

func (h *warnings) WithAttrs(as []slog.Attr) slog.Handler {
	return &warnings{st: h.st, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *warnings) WithGroup(string) slog.Handler { return h }
