// Command ssokeep keeps AWS IAM Identity Center (SSO) credentials alive for
// jobs that outlive a token, a session or a role credential.
//
// This binary is every command of internal/cli plus the emulator and the
// demo; exec and serve continue in ssokeep-keeper, the same commands without
// those two, when it is installed beside this one (internal/handover).
package main

import (
	"os"

	"github.com/ssokeep/ssokeep/internal/cli"
	"github.com/ssokeep/ssokeep/internal/handover"
)

func main() {
	cli.Lean = handover.To("ssokeep-keeper")
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
