package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/cli"
	"github.com/ssokeep/ssokeep/internal/demo"
)

func init() { cli.Register(newDemoJobCmd) }

// newDemoJobCmd is the sample job `ssokeep demo` runs: hidden, because it is
// only a part of the demo (it refuses to run against anything but a loopback
// S3 endpoint). It is this binary again so the demo needs no Python.
func newDemoJobCmd(g *cli.Globals) *cobra.Command {
	o := demo.JobOptions{}
	cmd := &cobra.Command{
		Use:    "demo-job",
		Short:  "The sample job of ssokeep demo (S3 put, list and get through the SDK's default credentials)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Out, o.Log = g.Stdout(), g.Stderr()
			r, err := demo.RunJob(cmd.Context(), o)
			switch {
			case err != nil:
				return err
			case cmd.Context().Err() != nil:
				return cli.SilentExit(130)
			case r.Failed > 0:
				return cli.SilentExit(cli.ExitError)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Bucket, "bucket", demo.DefaultBucket, "the bucket to use")
	fl.DurationVar(&o.Duration, "duration", time.Minute, "how long to run")
	fl.IntVar(&o.Workers, "workers", 4, "concurrent workers")
	fl.Float64Var(&o.Rate, "rate", 24, "S3 calls per second, all workers together")
	fl.DurationVar(&o.ExpiryWindow, "expiry-window", 0, "treat credentials as expired this long before they are (0: the SDK's default)")
	return cmd
}
