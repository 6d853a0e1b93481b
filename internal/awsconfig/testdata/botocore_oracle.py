"""Reads shared config files with botocore and prints what it makes of them (the awsconfig test oracle).

stdin: JSON list of {"id", "config", "credentials"} (paths; "" = no file).
stdout: JSON {id: {"parse_error", "profiles": [names], "config": {name: {key: value}}, "sessions": {...},
                   "resolve": {name: {"method", "error"}}}}.

Nothing here talks to the network: credential_process and login are stubbed (they would run a command or read
a cache), credential_source is stubbed (it would call IMDS or a container endpoint), SSO, STS and web identity
credentials are deferred and never refreshed, IMDS is disabled, and the caller points every AWS endpoint at
127.0.0.1.
"""
import json
import sys

import botocore.credentials as bc
import botocore.session
from botocore.exceptions import ConfigParseError


def _process_load(self):
    if self._credential_process is None:
        return None
    return bc.Credentials("AKIDSTUB", "stub", method="custom-process")


def _login_load(self):
    profile = self._load_config().get("profiles", {}).get(self._profile_name, {})
    if "login_session" not in profile:
        return None
    return bc.Credentials("AKIDSTUB", "stub", method="login")


bc.ProcessProvider.load = _process_load
if hasattr(bc, "LoginProvider"):
    bc.LoginProvider.load = _login_load
bc.CanonicalNameCredentialSourcer.source_credentials = (
    lambda self, name: bc.Credentials("AKIDSTUB", "stub", method=name))


def session(cfg, creds, profile=None):
    s = botocore.session.Session(profile=profile)
    s.set_config_variable("config_file", cfg)
    s.set_config_variable("credentials_file", creds)
    return s


def main():
    out = {}
    for case in json.load(sys.stdin):
        cfg, creds = case["config"], case["credentials"]
        res = {"parse_error": None}
        out[case["id"]] = res
        try:
            full = session(cfg, creds).full_config
        except ConfigParseError as e:
            res["parse_error"] = type(e).__name__
            continue
        res["profiles"] = list(full["profiles"])
        res["config"] = full["profiles"]
        res["sessions"] = full.get("sso_sessions", {})
        res["resolve"] = {}
        s = session(cfg, creds)
        for name in full["profiles"]:
            r = {"method": None, "error": None}
            try:
                # As Session(profile=name).get_credentials(), without building a session per profile.
                s.set_config_variable("profile", name)
                c = bc.create_credential_resolver(s).load_credentials()
                if c is not None:
                    r["method"] = c.method
            except Exception as e:  # the class name says which check fired
                r["error"] = type(e).__name__
            res["resolve"][name] = r
    json.dump(out, sys.stdout)


main()
