package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/jobrun"
	"github.com/ssokeep/ssokeep/internal/keeper"
	"github.com/ssokeep/ssokeep/internal/registry"
	"github.com/ssokeep/ssokeep/internal/serve"
)

func init() { Register(newServeCmd) }

func newServeCmd(g *Globals) *cobra.Command {
	var (
		f    keepFlags
		addr string
	)
	cmd := &cobra.Command{
		Use:   "serve [PROFILE...]",
		Short: "Serve fresh credentials for several profiles to many jobs, as a daemon",
		Long: `Serve the credentials of each PROFILE (default: the one named by -p or AWS_PROFILE) on one
container-credentials endpoint on 127.0.0.1, one path per profile, and keep them fresh as
'ssokeep exec' does, until interrupted. It prints, for each profile, the two variables a job
needs:

  AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/creds/PROFILE
  AWS_CONTAINER_AUTHORIZATION_TOKEN=...   (a random 256-bit secret for this daemon)

Give a job those two and nothing that outranks them (unset AWS_PROFILE and static keys; see
'ssokeep doctor'), or use 'ssokeep exec', which does all of that for one job. The endpoint also
answers /healthz and /metrics (Prometheus). 'ssokeep status' lists running daemons.

Each profile must be logged in first (ssokeep login -p PROFILE).`,
		Example: `  ssokeep serve dev analytics
  ssokeep serve dev --addr 127.0.0.1:9911 --notify-webhook https://hooks.slack.com/services/...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			handOver(cmd.Context(), g)
			if len(args) == 0 {
				args = []string{g.profileName()}
			}
			return runServe(cmd.Context(), g, &f, addr, args)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "listen address (loopback only; port 0 picks a free one)")
	return cmd
}

func runServe(ctx context.Context, g *Globals, f *keepFlags, addr string, profiles []string) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	m, err := newManager(g)
	if err != nil {
		return err
	}
	n, err := f.notifier(g)
	if err != nil {
		return err
	}
	routes := map[string]serve.Source{}
	keepers := map[string]*keeper.Keeper{}
	for _, name := range profiles {
		if _, dup := keepers[name]; dup {
			return WithCode(ExitUsage, fmt.Errorf("profile %s named twice", name))
		}
		k, err := keeperFor(g, cfg, m, name, f, n, nil)
		if err != nil {
			return err
		}
		k.Step(ctx)
		if _, ok := k.Current(); !ok {
			msg := k.Status().LastError
			if st := k.Status(); st.LoginNeeded {
				return WithCode(ExitLoginNeeded, fmt.Errorf("profile %s: log in first: ssokeep login -p %s", name, name))
			}
			return fmt.Errorf("profile %s: no credentials to serve: %s", name, msg)
		}
		keepers[name] = k
		routes[routePath(name)] = jobrun.Source{Keeper: k}
	}
	srv, err := serve.New(serve.Options{Addr: addr, Routes: routes, Now: now, Logger: g.logger})
	if err != nil {
		return WithCode(ExitUsage, fmt.Errorf("--addr: %w", err))
	}
	if err := srv.Start(); err != nil {
		return err
	}
	life, stop := context.WithCancel(context.Background())
	defer stop()
	for _, k := range keepers {
		go k.Run(life)
	}
	reg := registry.In(m.Cache.StateDir())
	go reg.Maintain(life, registry.Keeper{PID: os.Getpid(), Command: "serve", Endpoint: srv.URL(""), StartedAt: time.Now()},
		time.Now, 5*time.Second, func() []registry.Profile {
			var ps []registry.Profile
			for _, name := range profiles {
				ps = append(ps, jobrun.RegistryProfile(keepers[name]))
			}
			return ps
		})
	for _, name := range profiles {
		fmt.Fprintf(g.stdout, "# profile %s\n", name)
		for _, kv := range srv.Env(routePath(name)) {
			fmt.Fprintf(g.stdout, "export %s\n", kv)
		}
	}
	fmt.Fprintf(g.stderr, "ssokeep serve: %s (health %s, metrics %s); Ctrl-C stops it\n", srv.URL(""),
		srv.URL(serve.HealthPath), srv.URL(serve.MetricsPath))
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// routePath is the endpoint path of a profile.
func routePath(profile string) string { return "/creds/" + url.PathEscape(profile) }
