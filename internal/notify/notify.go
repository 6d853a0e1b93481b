// Package notify tells a human that ssokeep needs them (a login to approve,
// a session about to end) or that things are well again, on the channels
// they read: desktop, terminal bell, a command hook, a chat webhook.
//
// Events carry no secret: a device login's verification URL and user code
// are shown to the user anyway and are useless without their browser
// session, so they may go to any channel.
package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Kind names what happened; it is also SSOKEEP_EVENT for command hooks and
// event.kind in webhooks.
type Kind string

const (
	LoginRequired      Kind = "login-required"      // a human must approve a login now
	LoginReminder      Kind = "login-reminder"      // the pending login is still not approved
	LoginApproved      Kind = "login-approved"      // the login went through
	SessionEnding      Kind = "session-ending"      // the IdC session ends soon; re-login ahead of it
	SessionEnded       Kind = "session-ended"       // no refresh possible until a human logs in
	CredentialsFailing Kind = "credentials-failing" // upstream refresh keeps failing
	Recovered          Kind = "recovered"           // credentials flow again
)

// Event is one thing to tell the user.
type Event struct {
	Kind             Kind
	Profile, Session string
	VerificationURL  string    // verificationUriComplete of a device login
	UserCode         string    // the code the user checks against the browser page
	Deadline         time.Time // when the device code expires, or when the job runs out of credentials
	Message          string    // one human sentence; a default per Kind is used when empty
}

// Notifier delivers an event on one channel. Notify must honour ctx.
type Notifier interface {
	Notify(ctx context.Context, e Event) error
}

var titles = map[Kind]string{
	LoginRequired:      "AWS login required",
	LoginReminder:      "AWS login still waiting",
	LoginApproved:      "AWS login approved",
	SessionEnding:      "AWS session ending soon",
	SessionEnded:       "AWS session ended",
	CredentialsFailing: "AWS credentials failing",
	Recovered:          "AWS credentials recovered",
}

// Title is a short headline, e.g. "AWS login required (corp)".
func (e Event) Title() string {
	t, ok := titles[e.Kind]
	if !ok {
		t = "ssokeep: " + string(e.Kind)
	}
	if who := e.who(); who != "" {
		t += " (" + who + ")"
	}
	return t
}

func (e Event) who() string {
	switch {
	case e.Profile != "":
		return e.Profile
	case e.Session != "":
		return "session " + e.Session
	}
	return ""
}

// Text is the message, with a default per Kind when Message is empty.
func (e Event) Text() string {
	if e.Message != "" {
		return e.Message
	}
	who := e.who()
	if who == "" {
		who = "your profile"
	}
	by := ""
	if !e.Deadline.IsZero() {
		by = " by " + e.Deadline.Local().Format("15:04")
	}
	switch e.Kind {
	case LoginRequired, LoginReminder:
		return "Approve the AWS login for " + who + by + "."
	case LoginApproved:
		return "The AWS login for " + who + " is approved."
	case SessionEnding:
		return "The AWS sign-in session for " + who + " ends" + by + "; log in again before then to keep the job running."
	case SessionEnded:
		return "The AWS sign-in session for " + who + " has ended; log in again to keep the job running."
	case CredentialsFailing:
		return "ssokeep cannot refresh the AWS credentials for " + who + "; the job keeps its current ones" + by + "."
	case Recovered:
		return "AWS credentials for " + who + " are flowing again."
	}
	return "ssokeep: " + string(e.Kind) + " for " + who + "."
}

// Line is the whole event on one line, with the login URL and code when
// there are any. Control characters are replaced, so nothing in an event can
// break a line or send terminal escape sequences.
func (e Event) Line() string {
	var b strings.Builder
	b.WriteString("ssokeep: ")
	b.WriteString(e.Title())
	b.WriteString(": ")
	b.WriteString(e.Text())
	if e.VerificationURL != "" {
		b.WriteString(" Open ")
		b.WriteString(e.VerificationURL)
	}
	if e.UserCode != "" {
		fmt.Fprintf(&b, " (code %s)", e.UserCode)
	}
	return oneLine(b.String())
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
