// Command ssokeep-keeper is ssokeep without the emulator and the demo, for
// the processes that live as long as a job. `ssokeep exec` and `ssokeep
// serve` continue in it when it sits beside ssokeep and comes from the same
// build (`go install ./cmd/...` installs both): the process then maps about
// a third less, which is most of its resident memory. Every other command
// works here too.
package main

import (
	"os"

	"github.com/ssokeep/ssokeep/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
