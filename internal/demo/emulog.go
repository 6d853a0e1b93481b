package demo

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// callCounter is a slog.Handler for the emulator's log: it counts the AWS
// calls the emulator answers for the job (its per-request debug records),
// so the demo can show a job's calls even when the job is the user's own
// command, which reports nothing.
type callCounter struct {
	on             atomic.Bool
	calls, refused atomic.Int64
}

// keeperOps are the calls ssokeep itself makes; the rest are the job's.
var keeperOps = map[string]bool{"RegisterClient": true, "StartDeviceAuthorization": true, "CreateToken": true,
	"GetRoleCredentials": true, "ListAccounts": true, "ListAccountRoles": true, "Logout": true}

// expectedStatus are error answers programs ask for and handle: a missing
// key, a bucket that exists, a failed precondition, a range past the end.
var expectedStatus = map[int64]bool{404: true, 409: true, 412: true, 416: true}

func (c *callCounter) Enabled(context.Context, slog.Level) bool { return c.on.Load() }

func (c *callCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	var op string
	var status int64
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "op":
			op = a.Value.String()
		case "status":
			if a.Value.Kind() == slog.KindInt64 {
				status = a.Value.Int64()
			}
		}
		return true
	})
	if op == "" || keeperOps[op] {
		return nil
	}
	c.calls.Add(1)
	if status >= 400 && !expectedStatus[status] {
		c.refused.Add(1)
	}
	return nil
}

func (c *callCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *callCounter) WithGroup(string) slog.Handler      { return c }
