package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultWebhookTimeout bounds one POST when neither ctx nor the client
// sets a shorter limit.
const DefaultWebhookTimeout = 10 * time.Second

// Webhook POSTs {"text": …, "event": {…}} as JSON to rawURL: "text" is what
// Slack (and Mattermost, Rocket.Chat, … incoming webhooks) show, "event" is
// for programs. A non-2xx answer is an error. client nil means a plain
// client; its Timeout, if set, also applies.
//
// Chat webhook URLs are secrets (the path is the credential): errors and
// String name the host only.
func Webhook(rawURL string, client *http.Client) Notifier {
	if client == nil {
		client = &http.Client{}
	}
	u, err := CheckWebhookURL(rawURL)
	return &webhook{url: rawURL, parsed: u, parseErr: err, client: client}
}

// CheckWebhookURL says whether rawURL can be used, without echoing it.
func CheckWebhookURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("notify webhook URL is not an http(s) URL with a host; give the full https://… URL of the incoming webhook")
	}
	return u, nil
}

type webhook struct {
	url      string
	parsed   *url.URL
	parseErr error
	client   *http.Client
}

func (w *webhook) String() string {
	if w.parsed == nil {
		return "webhook"
	}
	return "webhook " + w.parsed.Host
}

// webhookEvent is the machine-readable half of the payload.
type webhookEvent struct {
	Kind            Kind   `json:"kind"`
	Profile         string `json:"profile,omitempty"`
	Session         string `json:"session,omitempty"`
	VerificationURL string `json:"verification_url,omitempty"`
	UserCode        string `json:"user_code,omitempty"`
	Deadline        string `json:"deadline,omitempty"` // RFC 3339
	Message         string `json:"message"`
	Title           string `json:"title"`
}

type webhookPayload struct {
	Text  string       `json:"text"`
	Event webhookEvent `json:"event"`
}

func (w *webhook) Notify(ctx context.Context, e Event) error {
	if w.parseErr != nil {
		return w.parseErr
	}
	ev := webhookEvent{
		Kind: e.Kind, Profile: e.Profile, Session: e.Session,
		VerificationURL: e.VerificationURL, UserCode: e.UserCode,
		Message: e.Text(), Title: e.Title(),
	}
	if !e.Deadline.IsZero() {
		ev.Deadline = e.Deadline.UTC().Format(time.RFC3339)
	}
	body, err := json.Marshal(webhookPayload{Text: slackText(e), Event: ev})
	if err != nil {
		return fmt.Errorf("%s: encoding the event: %w", w, err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultWebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", w, stripURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil || isTimeout(err) {
			return fmt.Errorf("%s: no answer in time (%v)", w, stripURL(err))
		}
		return fmt.Errorf("%s: %w", w, stripURL(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s: %s", w, resp.Status, oneLine(strings.TrimSpace(string(snippet))))
	}
	return nil
}

// stripURL drops the *url.Error wrapper, whose text holds the whole URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// slackText is the event in Slack mrkdwn: the login link as a link, the code
// as code, and &, <, > escaped as Slack requires.
func slackText(e Event) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	var b strings.Builder
	b.WriteString("*" + esc.Replace(e.Title()) + "*\n")
	b.WriteString(esc.Replace(e.Text()))
	if e.VerificationURL != "" {
		b.WriteString("\n<" + esc.Replace(e.VerificationURL) + "|Open the AWS login page>")
	}
	if e.UserCode != "" {
		b.WriteString(" · code `" + esc.Replace(e.UserCode) + "`")
	}
	return b.String()
}
