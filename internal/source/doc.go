// Package source turns a resolved AWS profile into credentials: each credential source (SSO role, MFA
// session, assume-role, static keys, the environment) is an aws.CredentialsProvider, and providers compose by
// wrapping, as golang.org/x/oauth2's TokenSources do. Build assembles the chain for a profile.
//
// Every set that costs an upstream call is cached on disk and shared between processes: SSO role credentials in
// the AWS CLI's own role cache (~/.aws/cli/cache, so the CLI and ssokeep reuse each other's sets), MFA sessions
// and assumed roles in ssokeep's own 0600 files. One Policy decides when a cached set is still worth serving,
// and a fetch runs under a cross-process lock after re-reading the cache, so many concurrent processes make one
// upstream call.
//
// Long-lived users (a keeper, an endpoint) may wrap a provider in aws.CredentialsCache for an in-memory layer;
// one-shot users (credential-process) read the disk cache directly.
//
// Nothing here logs or formats a secret: errors and log lines name profiles, roles, accounts and access key
// ids only.
package source
