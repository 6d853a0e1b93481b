package emulator

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Speeds of the paths a keeper exercises most, over loopback HTTP with the
// Go SDK: go test -bench . -run '^$' ./internal/emulator

func BenchmarkRefreshAndGetRoleCredentials(b *testing.B) {
	h := newHarness(b, Options{KeepRefreshTokens: true})
	reg := h.register("sso:account:access")
	tok := h.deviceLogin(reg)
	b.ResetTimer()
	for b.Loop() {
		out, err := h.refresh(reg, *tok.RefreshToken)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.roleCredentials(*out.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignedSTSGetCallerIdentity(b *testing.B) {
	h := newHarness(b, stsOptions())
	c := h.sts(aliceKey, aliceSecret, "")
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			b.Fatal(err)
		}
	}
}
