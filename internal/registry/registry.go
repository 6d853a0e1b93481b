// Package registry lists the ssokeep processes that keep credentials on this
// machine (`exec` jobs, `serve` daemons), so `ssokeep status` can show them:
// each writes a small file in ssokeep's state directory and refreshes it while
// it runs. No secret is ever written: no token, no key, not the endpoint's
// authorization value.
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ssokeep/ssokeep/internal/fsutil"
)

// Keeper is one running ssokeep process.
type Keeper struct {
	PID       int       `json:"pid"`
	Command   string    `json:"command"`  // "exec" or "serve"
	Endpoint  string    `json:"endpoint"` // http://127.0.0.1:PORT (no token)
	StartedAt time.Time `json:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Profiles  []Profile `json:"profiles"`
}

// Profile is what one keeper holds for one profile.
type Profile struct {
	Profile           string    `json:"profile"`
	Requests          uint64    `json:"requests"`
	CredentialsExpire time.Time `json:"credentialsExpire,omitzero"`
	SafeUntil         time.Time `json:"safeUntil,omitzero"`
	SessionEnd        time.Time `json:"sessionEnd,omitzero"`
	LoginPending      bool      `json:"loginPending"`
	VerificationURL   string    `json:"verificationUrl,omitempty"`
	UserCode          string    `json:"userCode,omitempty"`
}

// Dir is the registry directory (<state>/keepers).
type Dir struct{ Path string }

// In returns the registry in ssokeep's state directory.
func In(stateDir string) Dir { return Dir{Path: filepath.Join(stateDir, "keepers")} }

func (d Dir) file(pid int) string { return filepath.Join(d.Path, strconv.Itoa(pid)+".json") }

// Publish writes k's entry.
func (d Dir) Publish(k Keeper) error {
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteAtomic(d.file(k.PID), append(b, '\n'), 0o600)
}

// Remove deletes pid's entry.
func (d Dir) Remove(pid int) error {
	if err := os.Remove(d.file(pid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// staleAfter: an entry not refreshed for this long belongs to a process that
// died without cleaning up (where liveness cannot be checked directly).
const staleAfter = 2 * time.Minute

// List returns the live keepers, by PID. Entries of processes that are gone
// are removed.
func (d Dir) List(now time.Time) ([]Keeper, error) {
	ents, err := os.ReadDir(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Keeper
	for _, e := range ents {
		name := e.Name()
		pid, err := strconv.Atoi(strings.TrimSuffix(name, ".json"))
		if err != nil || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.Path, name))
		if err != nil {
			continue
		}
		var k Keeper
		if json.Unmarshal(b, &k) != nil || k.PID != pid {
			continue
		}
		if !alive(pid) || now.Sub(k.UpdatedAt) > staleAfter && !aliveKnown {
			_ = d.Remove(pid)
			continue
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

func (k Keeper) String() string { return fmt.Sprintf("ssokeep %s (pid %d)", k.Command, k.PID) }

// Maintain publishes k, refreshed with snapshot every interval, until ctx
// ends; then it removes the entry.
func (d Dir) Maintain(ctx interface{ Done() <-chan struct{} }, k Keeper, now func() time.Time, every time.Duration, snapshot func() []Profile) {
	defer d.Remove(k.PID)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		k.UpdatedAt, k.Profiles = now(), snapshot()
		_ = d.Publish(k) // best effort: status is a convenience
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
