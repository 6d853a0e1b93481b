// Command ssokeep keeps AWS IAM Identity Center (SSO) credentials alive for
// jobs that outlive a token, a session or a role credential.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
