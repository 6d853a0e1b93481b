package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ssokeep/ssokeep/internal/cli"
	"github.com/ssokeep/ssokeep/internal/demo"
	"github.com/ssokeep/ssokeep/internal/notify"
)

func init() { cli.Register(newDemoCmd) }

type demoFlags struct {
	speed         float64
	duration      time.Duration
	json          bool
	plain         bool
	job           bool
	desktop       bool
	notifyCommand string
	notifyWebhook string
}

func newDemoCmd(g *cli.Globals) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo [flags] [--job -- COMMAND [ARGS...]]",
		Short: "Watch a job outlive its AWS sign-in session, in compressed time, with no AWS account",
		Long: `Run a rehearsal of what ssokeep is for, in about two and a half minutes, on this machine
alone: no AWS account, nothing read from or written to ~/.aws.

The demo starts the emulator (a local IAM Identity Center, STS and S3) with compressed
lifetimes: a sign-in session of 60 s, access tokens of 10 s, role credentials of 30 s. It logs
in from a throwaway cache (approving the code as you would in the browser), then runs a sample
job exactly as ` + "`ssokeep exec`" + ` runs yours: behind a private credentials endpoint, in a
clean environment. The job's workers write, list and read S3 objects through two session ends.

You see the three clocks count down as bars, every token refresh and credential rotation,
each session end, the login notification a person would get, and its approval a few seconds
later, while the job's calls carry on without a single failure.

--speed runs everything faster (--speed 2: a 30 s session); --duration sets how long the job
runs. On a terminal the view is redrawn in place; elsewhere (a pipe, CI) it prints one line
per event. --json prints a final summary (calls, failed, rotations, sessionEnds, logins...)
on stdout and the view on stderr. The exit code is 0 when nothing failed.

--job -- COMMAND rehearses your own command instead of the sample job: it runs against the
emulator under a keeper, with AWS_ENDPOINT_URL_* (and AWS_ENDPOINT_URL for everything else)
pointing at it, the container credentials endpoint set, a bucket named in
SSOKEEP_DEMO_BUCKET, and Metaflow's S3 settings (METAFLOW_S3_ENDPOINT_URL,
METAFLOW_DATASTORE_SYSROOT_S3, METAFLOW_DATATOOLS_S3ROOT) pointing into that bucket.
Clients too old to honour AWS_ENDPOINT_URL_* (botocore < 1.31, AWS CLI < 2.13) would send
the emulator's fake keys to real AWS and fail there; use current ones.

--desktop, --notify-command and --notify-webhook send the demo's notifications to those
channels too, so you can see what the real thing will send to your desktop or phone.`,
		Example: `  ssokeep demo
  ssokeep demo --speed 2
  ssokeep demo --json | jq .
  ssokeep demo --notify-webhook https://hooks.slack.com/services/...
  ssokeep demo --job -- python3 flow.py --datastore=s3 run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd, g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.speed, "speed", 1, "run this many times faster (1: a 60 s session; at most 4)")
	fl.DurationVar(&f.duration, "duration", 0, "how long the job runs (default: two and a half sessions, 2m30s at --speed 1)")
	fl.BoolVar(&f.json, "json", false, "print a JSON summary on stdout (the view goes to stderr)")
	fl.BoolVar(&f.plain, "plain", false, "one line per event even on a terminal")
	fl.BoolVar(&f.job, "job", false, "rehearse COMMAND (after --) instead of the sample job")
	fl.BoolVar(&f.desktop, "desktop", false, "also show the notifications on the desktop")
	fl.StringVar(&f.notifyCommand, "notify-command", "", "also run this command on each notification (SSOKEEP_* variables)")
	fl.StringVar(&f.notifyWebhook, "notify-webhook", "", "also POST each notification to this Slack-compatible webhook URL")
	fl.SetInterspersed(false)
	return cmd
}

// demoJobRate is the sample job's calls per second at --speed 1.
const demoJobRate = 24

func runDemo(cmd *cobra.Command, g *cli.Globals, f *demoFlags, args []string) error {
	switch {
	case f.job && len(args) == 0:
		return cli.WithCode(cli.ExitUsage, errors.New("--job needs the command to rehearse after --, e.g. ssokeep demo --job -- python3 flow.py run"))
	case !f.job && len(args) > 0:
		return cli.WithCode(cli.ExitUsage, fmt.Errorf("unexpected argument %q: to rehearse your own command, use ssokeep demo --job -- COMMAND", args[0]))
	}
	sched, err := demo.NewSchedule(f.speed, f.duration)
	if err != nil {
		return cli.WithCode(cli.ExitUsage, err)
	}
	n, err := f.notifier(g)
	if err != nil {
		return err
	}
	view := g.Stdout()
	if f.json {
		view = g.Stderr()
	}
	o := demo.Options{Schedule: sched, Job: args, Sample: !f.job, Base: os.Environ(), Out: view,
		Live: !f.plain && cli.IsTerminal(view) && os.Getenv("TERM") != "dumb", Color: g.Color(view), Notifier: n,
		Signals: cli.ForwardedSignals, Size: termSize(view)}
	if o.Sample {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the ssokeep binary to run the sample job: %w", err)
		}
		o.Job = []string{exe, "demo-job", "--bucket", demo.DefaultBucket, "--duration", sched.Job.String(),
			"--workers", "4", "--rate", strconv.FormatFloat(min(demoJobRate*sched.Speed, 80), 'f', -1, 64),
			"--expiry-window", sched.ExpiryWindow().String()}
	}
	sum, err := demo.Run(cmd.Context(), o)
	if err != nil {
		if sum.Interrupted {
			return cli.WithCode(130, err)
		}
		return err
	}
	if f.json {
		enc := json.NewEncoder(g.Stdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		sum.WriteText(g.Stdout())
	}
	switch {
	case sum.OK():
		return nil
	case sum.Interrupted:
		return cli.SilentExit(130)
	}
	return cli.SilentExit(cli.ExitError)
}

// notifier is the channels the user asked the demo to try; nil for none.
func (f *demoFlags) notifier(g *cli.Globals) (notify.Notifier, error) {
	var ns []notify.Notifier
	if f.desktop {
		ns = append(ns, notify.Desktop())
	}
	hooks, err := cli.NotifyHooks(f.notifyCommand, f.notifyWebhook)
	if err != nil {
		return nil, err
	}
	ns = append(ns, hooks...)
	if len(ns) == 0 {
		return nil, nil
	}
	return notify.Fanout(g.Logger(), notify.DefaultFanoutTimeout, ns...), nil
}

// termSize reads the terminal's size at each frame, so a resized window is
// filled; 100×40 when it cannot be read.
func termSize(w io.Writer) func() (int, int) {
	return func() (int, int) {
		if f, ok := w.(*os.File); ok {
			if cols, rows, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 && rows > 0 {
				return cols, rows
			}
		}
		return 100, 40
	}
}
