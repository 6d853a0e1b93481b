"""Resolve credentials through botocore's default chain from an ssokeep
endpoint, the way every boto3 client in a Metaflow job does.

Environment: the two AWS_CONTAINER_* variables from Server.Env, config files
pointed at /dev/null, and EXPECT_* values to compare with. Prints only
verdicts, never a credential value.

Modes: "ok" (resolve and compare), "refused" (the endpoint must refuse).
"""
import datetime
import os
import sys

import botocore
import botocore.exceptions
import botocore.session


def main(mode):
    for name in os.environ:
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID"):
            print("refusing to run: %s is set" % name)
            return 2
    session = botocore.session.get_session()
    if mode == "refused":
        try:
            session.get_credentials()
        except botocore.exceptions.CredentialRetrievalError as e:
            print("refused as expected: CredentialRetrievalError")
            return 0
        print("FAIL: credentials resolved although the endpoint should refuse")
        return 1

    creds = session.get_credentials()
    if creds is None:
        print("FAIL: no credentials resolved")
        return 1
    failures = []
    if creds.method != "container-role":
        failures.append("method is %r, want container-role" % creds.method)
    frozen = creds.get_frozen_credentials()
    for field, env in (("access_key", "EXPECT_ACCESS_KEY_ID"), ("secret_key", "EXPECT_SECRET"), ("token", "EXPECT_TOKEN")):
        if getattr(frozen, field) != os.environ[env]:
            failures.append("%s differs from the served set" % field)
    want = datetime.datetime.fromisoformat(os.environ["EXPECT_EXPIRY"].replace("Z", "+00:00"))
    got = creds._expiry_time
    if got != want:
        failures.append("expiry %s, want %s" % (got.isoformat(), want.isoformat()))
    if os.environ.get("EXPECT_ACCOUNT_ID") and hasattr(frozen, "account_id"):
        if frozen.account_id != os.environ["EXPECT_ACCOUNT_ID"]:
            failures.append("account id %r, want %r" % (frozen.account_id, os.environ["EXPECT_ACCOUNT_ID"]))
    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print("PASS botocore %s: container-role, expiry %s" % (botocore.__version__, got.isoformat()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "ok"))
