// Package survival holds the end-to-end proofs of "keep a job alive": the
// real ssokeep binary runs real clients (boto3 1.43, Debian's boto3 1.26, an
// aws-sdk-go-v2 program with Metaflow's 64 S3 workers) under `ssokeep exec`
// against a real `ssokeep emulator` process, on the real clock, with
// lifetimes compressed to seconds: 90 s sign-in sessions, 20 s access tokens,
// 30 s role credentials. A job survives several session ends, each answered
// by exactly one background login that a notify hook approves, with zero
// failed client calls and no secret in ssokeep's output.
//
// `go test ./test/survival/` runs every scenario for three session lifetimes
// (about five minutes, the scenarios in parallel); -short runs one lifetime.
// The package has no non-test code.
package survival
