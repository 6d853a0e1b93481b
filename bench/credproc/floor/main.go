// Command floor is the least a credential_process can do: read one JSON file and print it. It is the baseline
// of bench/credproc/run.sh; it checks nothing (no expiry, no profile, no lock).
package main

import "os"

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
