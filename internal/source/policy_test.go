package source

import (
	"testing"
	"time"
)

func TestSourcesOfAChainNeedOnlyMinutes(t *testing.T) {
	if got := forSource(CredentialProcessPolicy).MinRemaining; got != sourceMinRemaining {
		t.Errorf("source minimum %v, want %v", got, sourceMinRemaining)
	}
	if got := forSource(Policy{MinRemaining: time.Minute}).MinRemaining; got != time.Minute {
		t.Errorf("a source never needs more than the top: got %v", got)
	}
}
