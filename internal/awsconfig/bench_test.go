package awsconfig

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLoadResolve reads a large but plausible config (200 SSO profiles over 5 sessions, 50 assume-role
// profiles) and resolves every profile, as `ssokeep status` does on each run.
func BenchmarkLoadResolve(b *testing.B) {
	var cfg strings.Builder
	for s := 0; s < 5; s++ {
		fmt.Fprintf(&cfg, "[sso-session s%d]\nsso_start_url = https://s%d.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n", s, s)
	}
	for p := 0; p < 200; p++ {
		fmt.Fprintf(&cfg, "[profile p%d]\nsso_session = s%d\nsso_account_id = %012d\nsso_role_name = Role%d\nregion = us-east-1\ns3 =\n  addressing_style = path\n\n", p, p%5, p, p)
	}
	for r := 0; r < 50; r++ {
		fmt.Fprintf(&cfg, "[profile r%d]\nrole_arn = arn:aws:iam::123456789012:role/R%d\nsource_profile = p%d\n\n", r, r, r)
	}
	f := files(b, cfg.String(), baseKeys)
	b.ResetTimer()
	for b.Loop() {
		c, err := Load(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range c.Profiles {
			if _, err := c.Resolve(name); err != nil {
				b.Fatal(err)
			}
		}
	}
}
