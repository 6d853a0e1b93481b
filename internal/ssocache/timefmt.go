package ssocache

import (
	"errors"
	"strings"
	"time"
)

// timeLayout is what the CLI writes (cli2 _sso_json_dumps, botocore's SSOCredentialFetcher): UTC, no fractions.
const timeLayout = "2006-01-02T15:04:05Z"

var errTimeFormat = errors.New("not a time in a format the AWS CLI or SDKs write (want e.g. 2006-01-02T15:04:05Z)")

// parseTime reads the times the cache's writers produce:
//   - the CLI and botocore: 2006-01-02T15:04:05Z
//   - the Go SDK: RFC 3339, with or without fractions, any offset
//   - the JS SDK: toISOString(), 2006-01-02T15:04:05.000Z
//   - Python isoformat(): +00:00 offsets
//   - botocore's default JSONFileCache dumps (%Y-%m-%dT%H:%M:%S%Z of a UTC datetime): 2006-01-02T15:04:05UTC
//
// The result is UTC, cut to whole seconds (the form it is written back in; cutting moves an expiry earlier,
// never later), and its year fits in four digits so that it can be written back.
func parseTime(s string) (time.Time, error) {
	var t time.Time
	var err error
	if rest, ok := strings.CutSuffix(s, "UTC"); ok {
		t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", rest, time.UTC)
	} else {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		// time.ParseError quotes the input; the input may be anything a file holds, so say only what we want.
		return time.Time{}, errTimeFormat
	}
	t = t.UTC().Truncate(time.Second)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, errors.New("the year is out of range")
	}
	return t, nil
}

// formatTime writes t as the CLI does.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// checkWritable reports whether t can be written and read back as the same instant.
func checkWritable(name string, t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return errors.New(name + ": the year is out of range")
	}
	return nil
}
