// Package emulator is a local, stateful stand-in for AWS IAM Identity Center
// (SSO OIDC and the SSO portal), STS and S3, served on one loopback listener.
//
// It exists so that ssokeep and its tests can run "days" of token, session and
// role-credential lifetimes in seconds against real AWS clients (the Go SDK,
// boto3, the CLI) without an AWS account. Every lifetime is a time.Duration and
// the clock is injectable (Options.Now), so Go tests never sleep to wait for an
// expiry. It is never imported by the product layers (login, keeper, serve):
// only by cmd/ssokeep (the emulator and demo commands) and by tests.
//
// # Routing
//
// One base URL serves everything, so every AWS_ENDPOINT_URL_* is Server.URL():
// requests SigV4-signed for "s3" go to S3 (package s3api, path-style), signed
// for "sts" go to STS (Query/XML); unsigned requests go to SSO OIDC
// (/client/register, /device_authorization, /token, /authorize), the portal
// (/federation/credentials, /assignment/accounts, /assignment/roles, /logout),
// the device page (/device) and the control API (/_emulator/...). Anything
// else is an anonymous S3 request and gets AccessDenied; Signature Version 2
// gets InvalidRequest, as new S3 buckets answer.
//
// # Sessions
//
// One emulated user ("emulator-user") signs in per start URL. Approving a
// device code or an /authorize request starts a sign-in session only when
// none is alive; otherwise the new tokens join the live one and die at its
// end (the day-2 "aws sso login" trap). Registrations with scopes or the
// refresh_token grant get refresh tokens and access tokens of TokenLifetime,
// which may outlive the session, but the portal refuses them once it has
// ended; legacy registrations (no scopes) get one access token that lives
// to the session end. CreateToken(refresh_token) fails with
// InvalidGrantException once the session has ended, and with rotation (the
// default) for a refresh token already used. Logout and EndSessions end the
// session at once. Role and STS credentials run to their own expiry.
//
// # Control API
//
//	POST /_emulator/approve       {"userCode":"ABCD-EFGH"}, or no body: every pending code
//	POST /_emulator/deny          {"userCode":"ABCD-EFGH"}
//	POST /_emulator/end-sessions  every live session ends now
//	GET  /_emulator/faults, PUT /_emulator/faults   {"PutObject":{"rate":0.1,"error":"SlowDown","latency":"200ms"}}
//	GET  /_emulator/stats         counters per operation, live sessions, credentials issued
//
// The Go API does the same: Approve, Deny, ApproveAll, EndSessions, SetFaults,
// SetApprovePolicy, Stats; Events arrive through Options.OnEvent and never
// carry a token or key.
package emulator
