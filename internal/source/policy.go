package source

import (
	"time"

	"github.com/ssokeep/ssokeep/internal/credproc"
)

// Policy decides when a cached set is still worth serving; it lives in
// credproc so the lean credential-process front can use it without the SDK.
type Policy = credproc.Policy

// CredentialProcessPolicy is the policy of `ssokeep credential-process` and `ssokeep export`.
var CredentialProcessPolicy = credproc.DefaultPolicy

// sourceMinRemaining is what a set must have left to sign one STS call for the next link of a chain. The next
// link's own set lives on regardless of its source's expiry, so asking more would only fetch (or prompt for an
// MFA code) earlier than needed.
const sourceMinRemaining = 5 * time.Minute

// forSource is the policy for a set used only to sign the STS call of the next link in a chain.
func forSource(p Policy) Policy {
	return Policy{MinRemaining: min(p.MinRemaining, sourceMinRemaining)}
}
