"""Drives the real botocore against the files ssocache reads and writes (used by interop_test.go).

Usage: python3 botocore_interop.py MODE  < args.json  > result.json

Every secret it handles is fake, and still it prints only SHA-256 sums of secrets, never the values.
The caller points every AWS_ENDPOINT_URL_* at a closed loopback port; the script refuses to run otherwise, so no
request can reach AWS even if botocore decided to refresh.
"""

import datetime
import hashlib
import json
import os
import sys

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import SSOCredentialFetcher
from botocore.stub import Stubber
from botocore.tokens import SSOTokenProvider, _sso_json_dumps
from botocore.utils import JSONFileCache, SSOTokenLoader
from dateutil.tz import tzutc


def sha(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def guard_loopback():
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_STS"):
        if not os.environ.get(name, "").startswith("http://127.0.0.1:"):
            sys.exit(f"refusing to run: {name} must point at a loopback address")


def fixed_clock(epoch):
    now = datetime.datetime.fromtimestamp(epoch, tzutc())
    return lambda: now


def epoch(value):
    return value.timestamp()


def loopback_client(session, service, region):
    client = session.create_client(service, region_name=region, config=Config(signature_version=UNSIGNED))
    if not client.meta.endpoint_url.startswith("http://127.0.0.1:"):
        sys.exit(f"refusing to run: the {service} client would call {client.meta.endpoint_url}")
    return client


class NoClient:
    """Stands where a service client would be: reading a fresh token must never call the service. Old botocore
    (Debian's 1.29) ignores AWS_ENDPOINT_URL_*, so this is what keeps it off the network."""

    def __getattr__(self, name):
        raise AssertionError(f"botocore tried to call the service ({name}) while only reading the cache")


def mode_keys(args):
    """Cache keys as botocore and the CLI compute them."""
    loader = SSOTokenLoader()
    tokens = [loader._generate_cache_key(t["startUrl"], t.get("sessionName")) for t in args["tokens"]]
    registrations = []
    for r in args["registrations"]:
        # The CLI v2's _registration_cache_key (awscli/botocore/utils.py): botocore itself has no registration cache.
        cache_args = {
            "tool": "botocore",
            "startUrl": r["startUrl"],
            "region": r["region"],
            "scopes": r.get("scopes"),
            "session_name": r.get("sessionName"),
        }
        registrations.append(hashlib.sha1(json.dumps(cache_args, sort_keys=True).encode("utf-8")).hexdigest())
    roles = []
    for r in args["roles"]:
        fetcher = SSOCredentialFetcher(
            r["startUrl"], "us-east-1", r["roleName"], r["accountId"], client_creator=None,
            sso_session_name=r.get("sessionName") or None,
        )
        roles.append(fetcher._create_cache_key())
    return {"tokens": tokens, "registrations": registrations, "roles": roles}


def mode_read_token(args):
    """Find and read a token file as botocore does: SSOTokenLoader, then the SSOTokenProvider of a profile."""
    cache = JSONFileCache(args["cacheDir"], dumps_func=_sso_json_dumps)
    token = SSOTokenLoader(cache=cache)(args["startUrl"], session_name=args["sessionName"])
    session = botocore.session.Session(profile=args["profile"])
    provider = SSOTokenProvider(session, cache=cache, time_fetcher=fixed_clock(args["now"]))
    provider.__dict__["_client"] = NoClient()  # CachedProperty: the instance attribute wins
    frozen = provider.load_token().get_frozen_token()
    return {
        "expiresAt": token["expiresAt"],
        "accessTokenSha256": sha(token["accessToken"]),
        "providerTokenSha256": sha(frozen.token),
        "providerExpiresEpoch": epoch(frozen.expiration),
        "sessionCacheDir": SSOTokenProvider._SSO_TOKEN_CACHE_DIR,
        "botocoreVersion": botocore.__version__,
    }


def mode_refresh_token(args):
    """Let botocore's SSOTokenProvider refresh a token that is inside its 15-minute window and write the result
    back, the way it does for every boto3 user. The sso-oidc client is real but stubbed: no request is sent."""
    cache = JSONFileCache(args["cacheDir"], dumps_func=_sso_json_dumps)
    current = SSOTokenLoader(cache=cache)(args["startUrl"], session_name=args["sessionName"])
    session = botocore.session.Session(profile=args["profile"])
    provider = SSOTokenProvider(session, cache=cache, time_fetcher=fixed_clock(args["now"]))
    client = loopback_client(session, "sso-oidc", args["region"])
    stubber = Stubber(client)
    stubber.add_response(
        "create_token",
        {
            "accessToken": args["newAccessToken"],
            "tokenType": "Bearer",
            "expiresIn": args["expiresIn"],
            "refreshToken": args["newRefreshToken"],
        },
        expected_params={
            "grantType": "refresh_token",
            "clientId": current["clientId"],
            "clientSecret": current["clientSecret"],
            "refreshToken": current["refreshToken"],
        },
    )
    stubber.activate()
    provider.__dict__["_client"] = client  # CachedProperty: the instance attribute wins
    frozen = provider.load_token().get_frozen_token()
    stubber.assert_no_pending_responses()
    return {"providerTokenSha256": sha(frozen.token), "providerExpiresEpoch": epoch(frozen.expiration)}


def mode_write_token(args):
    """Write a token dict through JSONFileCache with the SSO dumps, as SSOTokenProvider saves one."""
    cache = JSONFileCache(args["cacheDir"], dumps_func=_sso_json_dumps)
    token = dict(args["token"])
    token["expiresAt"] = datetime.datetime.fromtimestamp(args["expiresEpoch"], tzutc())
    SSOTokenLoader(cache=cache).save_token(args["startUrl"], token, session_name=args.get("sessionName"))
    return {}


def sso_fetcher(args, cache, client_creator, token_loader):
    return SSOCredentialFetcher(
        args["startUrl"], args["region"], args["roleName"], args["accountId"],
        client_creator=client_creator, token_loader=token_loader, cache=cache,
        sso_session_name=args.get("sessionName") or None,
    )


def mode_role_read(args):
    """Read role credentials through the CLI's cache path: a cache hit never calls the client."""

    def no_client(*_a, **_kw):
        raise AssertionError("the cached credentials were not used")

    fetcher = sso_fetcher(args, JSONFileCache(args["cacheDir"]), no_client, no_client)
    creds = fetcher.fetch_credentials()
    return {
        "accessKeyIdSha256": sha(creds["access_key"]),
        "secretAccessKeySha256": sha(creds["secret_key"]),
        "sessionTokenSha256": sha(creds["token"]),
        "expiryTime": creds["expiry_time"],
    }


def mode_role_write(args):
    """Have botocore fetch role credentials (stubbed sso client) and write them to the cache as the CLI does."""
    session = botocore.session.Session()
    client = loopback_client(session, "sso", args["region"])
    stubber = Stubber(client)
    stubber.add_response(
        "get_role_credentials",
        {
            "roleCredentials": {
                "accessKeyId": args["accessKeyId"],
                "secretAccessKey": args["secretAccessKey"],
                "sessionToken": args["sessionToken"],
                "expiration": args["expirationMs"],
            }
        },
        expected_params={"roleName": args["roleName"], "accountId": args["accountId"], "accessToken": "access"},
    )
    stubber.activate()
    far = datetime.datetime(2999, 1, 1, tzinfo=tzutc()).strftime("%Y-%m-%dT%H:%M:%SZ")
    fetcher = sso_fetcher(
        args, JSONFileCache(args["cacheDir"]), lambda *_a, **_kw: client,
        lambda _url: {"accessToken": "access", "expiresAt": far},
    )
    fetcher.fetch_credentials()
    stubber.assert_no_pending_responses()
    return {"key": fetcher._create_cache_key()}


def mode_assume_write(args):
    """Write an assume-role cache entry as the CLI does: the STS response, datetime and all, through the
    default dumps (which gives the ...UTC suffix)."""
    expiration = datetime.datetime.fromtimestamp(args["expiresEpoch"], tzutc())
    JSONFileCache(args["cacheDir"])[args["key"]] = {
        "Credentials": {
            "AccessKeyId": "ASIAASSUMEDFAKE",
            "SecretAccessKey": "assumed-secret",
            "SessionToken": "assumed-session",
            "Expiration": expiration,
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROAFAKE:me", "Arn": "arn:aws:sts::111122223333:assumed-role/R/me"},
        "ResponseMetadata": {"RequestId": "fake", "HTTPStatusCode": 200},
    }
    return {}


MODES = {
    "keys": mode_keys,
    "read-token": mode_read_token,
    "refresh-token": mode_refresh_token,
    "write-token": mode_write_token,
    "role-read": mode_role_read,
    "role-write": mode_role_write,
    "assume-write": mode_assume_write,
}

if __name__ == "__main__":
    guard_loopback()
    json.dump(MODES[sys.argv[1]](json.load(sys.stdin)), sys.stdout)
