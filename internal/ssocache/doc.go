// Package ssocache reads and writes the AWS CLI v2 SSO caches exactly as the CLI names and writes them:
// the token and client-registration cache (~/.aws/sso/cache) and the CLI's role-credential cache
// (~/.aws/cli/cache).
//
// Every write is atomic (a temporary file in the same directory, fsync, rename), keeps the JSON fields it does
// not know, keeps the file's mode (0600 for new files) and never replaces a file it could not parse. Writers
// serialize on a cross-process file lock kept in ssokeep's own directory beside the cache
// (<cache>/../ssokeep/locks), so the CLI's directory only ever holds the CLI's own files.
//
// Errors never quote file content: a cache file holds access tokens, refresh tokens and client secrets.
package ssocache
