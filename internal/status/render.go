package status

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ssokeep/ssokeep/internal/termui"
)

// Write prints the report for people: a table of sessions, the cached role
// credentials, and one line per problem with what to do about it.
func (r *Report) Write(w io.Writer, color bool) error {
	now := r.GeneratedAt
	if r.Note != "" {
		fmt.Fprintln(w, r.Note)
	}
	if len(r.Sessions) == 0 && r.Note == "" {
		fmt.Fprintln(w, "No IAM Identity Center profiles in the AWS config.")
	}
	if len(r.Sessions) > 0 {
		t := termui.NewTable("SESSION", "KIND", "TOKEN", "REFRESHABLE", "REGISTRATION", "SESSION END", "STATE")
		for _, s := range r.Sessions {
			tok, refresh, reg := termui.C("none", termui.Red), termui.C("-", termui.Plain), "-"
			if s.Token != nil {
				tok = timeCell(s.Token.ExpiresAt, now, s.Token.Refreshable)
				refresh = termui.C("no", termui.Yellow)
				if s.Token.Refreshable {
					refresh = termui.C("yes", termui.Green)
				}
			}
			if s.Registration != nil {
				reg = termui.Remaining(s.Registration.ExpiresAt, now)
			}
			t.RowCells(termui.C(s.Name, termui.Plain), termui.C(s.Kind, termui.Plain), tok, refresh,
				termui.C(reg, termui.Plain), sessionEndCell(s.SessionEnd, now), stateCell(s.State))
		}
		if err := t.Write(w, color); err != nil {
			return err
		}
	}
	roles := termui.NewTable("PROFILE", "ACCOUNT", "ROLE", "CREDENTIALS", "SOURCE")
	for _, s := range r.Sessions {
		for _, rc := range s.RoleCredentials {
			roles.RowCells(termui.C(rc.Profile, termui.Plain), termui.C(rc.AccountID, termui.Plain),
				termui.C(rc.RoleName, termui.Plain), timeCell(rc.ExpiresAt, now, false), termui.C(rc.Source, termui.Dim))
		}
	}
	if roles.Len() > 0 {
		fmt.Fprintln(w)
		if err := roles.Write(w, color); err != nil {
			return err
		}
	}
	keepers := termui.NewTable("PID", "RUNNING", "PROFILE", "ENDPOINT", "CREDENTIALS", "SAFE UNTIL", "SESSION END", "LOGIN")
	for _, k := range r.Keepers {
		for _, p := range k.Profiles {
			login := termui.C("-", termui.Plain)
			if p.LoginPending {
				login = termui.C("waiting: "+p.VerificationURL+" code "+p.UserCode, termui.Yellow)
			}
			end := termui.C("unknown", termui.Dim)
			if !p.SessionEnd.IsZero() {
				end = timeCell(p.SessionEnd, now, false)
			}
			keepers.RowCells(termui.C(fmt.Sprint(k.PID), termui.Plain), termui.C("ssokeep "+k.Command, termui.Plain),
				termui.C(p.Profile, termui.Plain), termui.C(k.Endpoint, termui.Dim), timeCell(p.CredentialsExpire, now, false),
				termui.C(clockTime(p.SafeUntil), termui.Plain), end, login)
		}
	}
	if keepers.Len() > 0 {
		fmt.Fprintln(w)
		if err := keepers.Write(w, color); err != nil {
			return err
		}
	}
	var notes []string
	for _, s := range r.Sessions {
		for _, p := range s.Problems {
			notes = append(notes, fmt.Sprintf("%s: %s", s.Name, p))
		}
		if s.Token != nil && s.Token.NotRefreshable != "" {
			notes = append(notes, fmt.Sprintf("%s: cannot refresh: %s", s.Name, s.Token.NotRefreshable))
		}
		switch s.State {
		case LoginNeeded:
			notes = append(notes, fmt.Sprintf("%s: log in: %s", s.Name, LoginCommand(s)))
		case Expiring:
			notes = append(notes, fmt.Sprintf("%s: ends within %s: log in again soon: %s", s.Name,
				termui.Duration(time.Duration(r.MinRemaining)), LoginCommand(s)))
		}
	}
	for _, p := range r.InvalidProfiles {
		notes = append(notes, fmt.Sprintf("profile %s is invalid: %s", p.Profile, p.Error))
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, termui.Paint("! ", termui.Yellow, color)+n)
		}
	}
	return nil
}

// LoginCommand is the command that logs the session in again.
func LoginCommand(s *Session) string {
	if s.LoginProfile == "" {
		return "ssokeep login --sso-session " + shellQuote(s.Name)
	}
	return "ssokeep login -p " + shellQuote(s.LoginProfile)
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@+=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// timeCell shows the time left in green, yellow under 15 minutes (botocore's
// refresh window), red when gone. A refreshable token is never alarming.
func timeCell(at, now time.Time, refreshable bool) termui.Cell {
	left := at.Sub(now)
	c := termui.Green
	switch {
	case left <= 0 && refreshable, left > 0 && left < 15*time.Minute && refreshable:
		c = termui.Plain
	case left <= 0:
		c = termui.Red
	case left < 15*time.Minute:
		c = termui.Yellow
	}
	return termui.C(termui.Remaining(at, now), c)
}

func sessionEndCell(e SessionEnd, now time.Time) termui.Cell {
	switch {
	case e.State == "ended":
		return termui.C("ended", termui.Red)
	case e.At != nil && !e.Exact:
		// A plain login may have joined an older session: this is the latest end.
		c := timeCell(*e.At, now, false)
		c.Text = "≤" + c.Text
		return c
	case e.At != nil:
		return timeCell(*e.At, now, false)
	}
	return termui.C("unknown", termui.Dim)
}

func stateCell(s State) termui.Cell {
	switch s {
	case LoginNeeded:
		return termui.C("login needed", termui.Red)
	case Expiring:
		return termui.C("expiring", termui.Yellow)
	}
	return termui.C("ok", termui.Green)
}

func clockTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("15:04:05")
}
