package emulator

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// AccountsFile is the JSON file behind `ssokeep emulator --accounts`:
//
//	{
//	  "accounts": [
//	    {"id": "111122223333", "name": "dev",
//	     "permissionSets": [{"name": "Developer", "sessionDuration": "1h"}],
//	     "roles": [{"name": "Deployer", "maxSessionDuration": "2h", "externalId": "x", "requireMfa": true}]}
//	  ],
//	  "users": [
//	    {"name": "alice", "accountId": "111122223333",
//	     "accessKeyId": "AKIAEXAMPLEALICE0001", "secretAccessKey": "...",
//	     "mfa": {"secret": "JBSWY3DPEHPK3PXP"}}
//	  ]
//	}
type AccountsFile struct {
	Accounts []Account `json:"accounts"`
	Users    []User    `json:"users,omitempty"`
}

// LoadAccountsFile reads and checks an accounts file.
func LoadAccountsFile(path string) (*AccountsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("accounts file: %w", err)
	}
	var f AccountsFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt key should not silently do nothing
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("accounts file %s: %v (see `ssokeep emulator --help` for the format)", path, err)
	}
	if len(f.Accounts) == 0 {
		return nil, fmt.Errorf("accounts file %s: declare at least one account under \"accounts\"", path)
	}
	if err := checkAccounts(f.Accounts, f.Users); err != nil {
		return nil, fmt.Errorf("accounts file %s: %w", path, err)
	}
	return &f, nil
}

var (
	accountIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{12}$`) })
	// IAM names: role, user and permission set names share this alphabet.
	iamNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{1,64}$`) })
)

func checkAccounts(accounts []Account, users []User) error {
	ids := map[string]bool{}
	for i, a := range accounts {
		where := fmt.Sprintf("accounts[%d]", i)
		if !accountIDRe().MatchString(a.ID) {
			return fmt.Errorf("%s: id %q must be 12 digits", where, a.ID)
		}
		if ids[a.ID] {
			return fmt.Errorf("%s: account %s is declared twice", where, a.ID)
		}
		ids[a.ID] = true
		seen := map[string]bool{}
		for j, p := range a.PermissionSets {
			if !iamNameRe().MatchString(p.Name) || seen[p.Name] {
				return fmt.Errorf("%s.permissionSets[%d]: name %q must be unique and 1-64 characters of letters, digits and +=,.@_-", where, j, p.Name)
			}
			seen[p.Name] = true
			if p.SessionDuration < 0 {
				return fmt.Errorf("%s.permissionSets[%d]: sessionDuration must be positive", where, j)
			}
		}
		seen = map[string]bool{}
		for j, r := range a.Roles {
			if !iamNameRe().MatchString(r.Name) || seen[r.Name] {
				return fmt.Errorf("%s.roles[%d]: name %q must be unique and 1-64 characters of letters, digits and +=,.@_-", where, j, r.Name)
			}
			seen[r.Name] = true
			if d := time.Duration(r.MaxSessionDuration); d != 0 && (d < time.Hour || d > 12*time.Hour) {
				return fmt.Errorf("%s.roles[%d]: maxSessionDuration %v must be between 1h and 12h, as in IAM", where, j, d)
			}
		}
	}
	keys := map[string]bool{}
	for i, u := range users {
		where := fmt.Sprintf("users[%d]", i)
		if !iamNameRe().MatchString(u.Name) {
			return fmt.Errorf("%s: name %q must be 1-64 characters of letters, digits and +=,.@_-", where, u.Name)
		}
		if u.AccountID != "" && !ids[u.AccountID] {
			return fmt.Errorf("%s: accountId %q is not one of the declared accounts", where, u.AccountID)
		}
		if len(u.AccessKeyID) < 16 || u.SecretAccessKey == "" {
			return fmt.Errorf("%s (%s): accessKeyId (16+ characters) and secretAccessKey are required", where, u.Name)
		}
		if keys[u.AccessKeyID] {
			return fmt.Errorf("%s (%s): accessKeyId is used twice", where, u.Name)
		}
		keys[u.AccessKeyID] = true
		if u.MFA != nil {
			if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(u.MFA.Secret, "="))); err != nil || u.MFA.Secret == "" {
				return fmt.Errorf("%s (%s): mfa.secret must be a base32 TOTP seed such as JBSWY3DPEHPK3PXP", where, u.Name)
			}
		}
	}
	return nil
}

func (s *Server) account(id string) *Account {
	for i := range s.opts.Accounts {
		if s.opts.Accounts[i].ID == id {
			return &s.opts.Accounts[i]
		}
	}
	return nil
}

func (a *Account) permissionSet(name string) *PermissionSet {
	for i := range a.PermissionSets {
		if a.PermissionSets[i].Name == name {
			return &a.PermissionSets[i]
		}
	}
	return nil
}

func (a *Account) role(name string) *Role {
	for i := range a.Roles {
		if a.Roles[i].Name == name {
			return &a.Roles[i]
		}
	}
	return nil
}

// mfaDevice finds a configured virtual MFA device by serial number.
func (s *Server) mfaDevice(serial string) *MFADevice {
	for _, u := range s.opts.Users {
		if u.MFA != nil && u.MFA.SerialNumber == serial {
			return u.MFA
		}
	}
	return nil
}
