// Package benchdata is the credential set that both load-test servers
// answer with, so the fixture and the floor send byte-identical bodies.
package benchdata

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TokenEnv names the variable that carries the bench's Authorization token
// (an environment variable, not argv: argv is world-readable in ps).
const TokenEnv = "BENCH_TOKEN"

// Creds is a fake set shaped like real role credentials (a session token of
// realistic length); none of it is valid anywhere.
func Creds() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     "ASIABENCHFAKE0000000",
		SecretAccessKey: "benchFakeSecretKey/0000000000000000000000",
		SessionToken:    "IQoJb3JpZ2luX2VjEBench" + strings.Repeat("FakeSessionTokenBytes0123456789", 32),
		CanExpire:       true,
		Expires:         time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		AccountID:       "123456789012",
	}
}

// Body is the container-provider JSON for Creds, as the floor sends it.
func Body() []byte {
	c := Creds()
	b, err := json.Marshal(struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
		Token           string `json:"Token"`
		Expiration      string `json:"Expiration"`
		AccountID       string `json:"AccountId,omitempty"`
	}{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.Expires.UTC().Format(time.RFC3339), c.AccountID})
	if err != nil {
		panic(err)
	}
	return b
}
