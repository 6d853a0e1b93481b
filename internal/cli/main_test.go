package cli

import (
	"os"
	"testing"

	"github.com/ssokeep/ssokeep/internal/testbin"
)

func TestMain(m *testing.M) { os.Exit(testbin.Main(m)) }
