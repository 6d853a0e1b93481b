// Package jobrun runs one job under a keeper: it starts the keeper and a
// private credentials endpoint, gives the job a clean environment pointing at
// it, forwards signals, and keeps serving until the job and every process it
// started are gone. `ssokeep exec` and `ssokeep demo` both run jobs this way.
package jobrun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/ssokeep/ssokeep/internal/childenv"
	"github.com/ssokeep/ssokeep/internal/job"
	"github.com/ssokeep/ssokeep/internal/keeper"
	"github.com/ssokeep/ssokeep/internal/registry"
	"github.com/ssokeep/ssokeep/internal/serve"
)

// Options describe the job.
type Options struct {
	Keeper   *keeper.Keeper
	Argv     []string
	Base     []string          // the environment to clean (os.Environ())
	Extra    []string          // KEY=VALUE added after cleaning (e.g. an S3 endpoint for a rehearsal)
	Settings map[string]string // the profile's non-credential settings for the generated config
	Stdin    *os.File
	Stdout   io.Writer
	Stderr   io.Writer
	// Signals are forwarded to the job's processes (nil: none).
	Signals []os.Signal
	Logger  *slog.Logger
	Now     func() time.Time
	// Ready, if set, is called with the endpoint once it serves, before the
	// job starts (the demo shows it; tests read its metrics).
	Ready func(*serve.Server)
	// Registry, if set, lists the job among the running keepers for `ssokeep status`.
	Registry *registry.Dir
}

// StartError means the job could not be started (exit code 127 in shells).
type StartError struct{ Err error }

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Run runs the job to the end and returns its exit code. The keeper and the
// endpoint live as long as the job, whatever happens to ctx: a cancelled ctx
// (Ctrl-C reaching ssokeep) only stops the wait for the job's grandchildren.
func Run(ctx context.Context, o Options) (int, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	life, stop := context.WithCancel(context.Background())
	defer stop()
	k := o.Keeper
	if err := firstSet(life, k, o.Now); err != nil {
		return 1, err
	}
	go k.Run(life)

	const route = "/creds"
	srv, err := serve.New(serve.Options{Routes: map[string]serve.Source{route: Source{k}}, Now: o.Now, Logger: o.Logger})
	if err != nil {
		return 1, err
	}
	if err := srv.Start(); err != nil {
		return 1, err
	}
	defer srv.Shutdown(context.Background())
	if o.Registry != nil {
		go o.Registry.Maintain(life, registry.Keeper{PID: os.Getpid(), Command: "exec", Endpoint: srv.URL(""),
			StartedAt: time.Now()}, time.Now, 5*time.Second, func() []registry.Profile {
			return []registry.Profile{RegistryProfile(k)}
		})
	}
	if o.Ready != nil {
		o.Ready(srv)
	}
	dir, err := os.MkdirTemp("", "ssokeep-job-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	env, err := childenv.Build(childenv.Options{Base: o.Base, Endpoint: srv.Env(route), Settings: o.Settings, Dir: dir})
	if err != nil {
		return 1, err
	}
	for _, w := range env.Warnings {
		fmt.Fprintf(o.Stderr, "ssokeep: warning: %s\n", w)
	}
	// Catch signals before the job exists, so one that arrives while it starts
	// is held and forwarded rather than lost.
	var sigs chan os.Signal
	if len(o.Signals) > 0 {
		sigs = make(chan os.Signal, 8)
		signal.Notify(sigs, o.Signals...)
		defer signal.Stop(sigs)
	}
	j, err := job.Start(job.Options{Argv: o.Argv, Env: append(env.Env, o.Extra...), Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr})
	if err != nil {
		return 127, &StartError{fmt.Errorf("cannot run %s: %w", o.Argv[0], err)}
	}
	if sigs != nil {
		go func() {
			for s := range sigs {
				_ = j.Signal(s)
			}
		}()
	}
	code, err := j.Wait()
	if err != nil {
		return code, err
	}
	// Serve the job's remaining processes (Metaflow's workers, a helper it
	// left behind) until they are gone too: they are real processes on the
	// real clock, so poll.
	for j.Remaining() && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	return code, nil
}

// firstSet gets the keeper its first credentials before the job starts,
// riding out a few transient upstream failures (the keeper backs off between
// tries) but not a login that is needed.
func firstSet(ctx context.Context, k *keeper.Keeper, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	deadline := now().Add(30 * time.Second)
	for {
		next := k.Step(ctx)
		if _, ok := k.Current(); ok {
			return nil
		}
		st := k.Status()
		if st.LoginNeeded || !next.Before(deadline) {
			return fmt.Errorf("no credentials to serve: %s", st.LastError)
		}
		t := time.NewTimer(next.Sub(now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RegistryProfile is what `ssokeep status` shows of a keeper.
func RegistryProfile(k *keeper.Keeper) registry.Profile {
	st := k.Status()
	return registry.Profile{Profile: st.Profile, CredentialsExpire: st.CredentialsExpire, SafeUntil: st.SafeUntil,
		SessionEnd: st.SessionEnd, LoginPending: st.LoginPending, VerificationURL: st.VerificationURL, UserCode: st.UserCode}
}

// Source lets the endpoint serve a keeper.
type Source struct{ *keeper.Keeper }

// Status maps the keeper's state to the endpoint's metrics.
func (s Source) Status() serve.Status {
	st := s.Keeper.Status()
	return serve.Status{Profile: st.Profile, UpstreamCalls: st.UpstreamCalls, UpstreamFailures: st.UpstreamFailures,
		CredentialsExpire: st.CredentialsExpire, TokenExpires: st.TokenExpires, SessionEnd: st.SessionEnd,
		LoginPending: st.LoginPending}
}
