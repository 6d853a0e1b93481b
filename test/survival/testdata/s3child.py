"""A long-running boto3 job, the way Metaflow uses S3: several workers, each
with its own Session and client, putting, getting and listing objects for
SURVIVAL_DURATION seconds, and now and then building a fresh Session (as
Metaflow's s3op workers and its retry path do), which resolves the credential
chain again.

It gets its credentials only from the default chain, which under
`ssokeep exec` must be the container provider. Retries are off, so every
failure shows. It prints one JSON report on stdout (no secrets: access key
IDs are not secret) and writes the secrets it held (secret keys and session
tokens it signed with, the endpoint's authorization token) to
SURVIVAL_SECRETS_FILE, so the test can check that none of
them ever appears in ssokeep's output.

Environment:
  SURVIVAL_DURATION     seconds to run
  SURVIVAL_WORKERS      worker threads (default 4)
  SURVIVAL_PAUSE        seconds between a worker's rounds (default 0.2)
  SURVIVAL_BUCKET       bucket to use (created here)
  SURVIVAL_S3_ENDPOINT  endpoint_url for S3; botocore < 1.31 ignores
                        AWS_ENDPOINT_URL_S3, so it must be passed explicitly
  SURVIVAL_SECRETS_FILE where to write the secrets
"""

import hashlib
import json
import os
import sys
import threading
import time

import boto3
import botocore
from botocore.config import Config

DURATION = float(os.environ["SURVIVAL_DURATION"])
WORKERS = int(os.environ.get("SURVIVAL_WORKERS", "4"))
PAUSE = float(os.environ.get("SURVIVAL_PAUSE", "0.2"))
BUCKET = os.environ["SURVIVAL_BUCKET"]
ENDPOINT = os.environ.get("SURVIVAL_S3_ENDPOINT") or None
SECRETS_FILE = os.environ["SURVIVAL_SECRETS_FILE"]
NEW_SESSION_EVERY = 25  # rounds

CONFIG = Config(
    s3={"addressing_style": "path"},
    # No retries: a call that fails once counts as failed.
    retries={"max_attempts": 0, "mode": "standard"},
    connect_timeout=10,
    read_timeout=30,
)

lock = threading.Lock()
calls = {}
failures = {}
errors = []
access_keys = set()
secrets = set()
methods = set()
sessions_built = 0
# The longest stretch without a successful call: the job's continuity,
# whatever the machine's speed.
last_ok = time.monotonic()
longest_pause = 0.0


def count(op, ok, err=None):
    global last_ok, longest_pause
    with lock:
        calls[op] = calls.get(op, 0) + 1
        if ok:
            now = time.monotonic()
            longest_pause = max(longest_pause, now - last_ok)
            last_ok = now
        else:
            failures[op] = failures.get(op, 0) + 1
            if len(errors) < 10:
                errors.append("%s: %s" % (op, str(err)[:300]))


def new_client():
    """A Session and S3 client, as Metaflow's S3Client builds them."""
    global sessions_built
    session = boto3.session.Session()
    client = session.client("s3", endpoint_url=ENDPOINT, config=CONFIG)

    def seen(request, **kwargs):
        # The request as signed: the key ID and session token it carries,
        # and the secret of the same set (read without triggering a refresh:
        # this thread is the only user of this session).
        auth = request.headers.get("Authorization", b"")
        if isinstance(auth, bytes):
            auth = auth.decode()
        token = request.headers.get("X-Amz-Security-Token", b"")
        if isinstance(token, bytes):
            token = token.decode()
        akid = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else ""
        creds = session.get_credentials()
        with lock:
            if akid:
                access_keys.add(akid)
            if token:
                secrets.add(token)
            if creds is not None:
                methods.add(creds.method)
                if getattr(creds, "_access_key", None) == akid and getattr(creds, "_secret_key", None):
                    secrets.add(creds._secret_key)

    client.meta.events.register("before-send.s3", seen)
    with lock:
        sessions_built += 1
    return client


def worker(n, deadline):
    client = None
    rnd = 0
    while time.monotonic() < deadline:
        # Workers rebuild at different rounds, as independent processes
        # would: in lockstep, their Session builds (seconds of CPU each on a
        # loaded machine, one at a time under the GIL) would pause the job.
        if client is None or (rnd + 7 * n) % NEW_SESSION_EVERY == 0:
            try:
                client = new_client()
            except Exception as e:  # the chain failing at client creation is fatal in Metaflow
                count("NewClient", False, e)
                client = None
                time.sleep(PAUSE)
                rnd += 1
                continue
        key = "w%d/obj%d" % (n, rnd % 4)
        body = os.urandom(512 + (rnd * 97) % 4096)
        try:
            client.put_object(Bucket=BUCKET, Key=key, Body=body)
            count("PutObject", True)
        except Exception as e:
            count("PutObject", False, e)
        try:
            got = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            if hashlib.sha256(got).digest() != hashlib.sha256(body).digest():
                raise ValueError("GetObject %s returned %d bytes that differ from the %d put" % (key, len(got), len(body)))
            count("GetObject", True)
        except Exception as e:
            count("GetObject", False, e)
        if rnd % 5 == 0:
            try:
                keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="w%d/" % n).get("Contents", [])]
                if key not in keys:
                    raise ValueError("ListObjectsV2 does not list %s" % key)
                count("ListObjectsV2", True)
            except Exception as e:
                count("ListObjectsV2", False, e)
        rnd += 1
        time.sleep(PAUSE)


def main():
    global last_ok
    start = time.monotonic()
    last_ok = start
    deadline = start + DURATION
    try:
        new_client().create_bucket(Bucket=BUCKET)
        count("CreateBucket", True)
    except Exception as e:
        count("CreateBucket", False, e)
    threads = [threading.Thread(target=worker, args=(n, deadline)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The endpoint's authorization token is a secret too.
    if os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"):
        secrets.add(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
    with open(SECRETS_FILE, "w") as f:
        for s in sorted(secrets):
            f.write(s + "\n")
    report = {
        "client": "boto3",
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "python": sys.version.split()[0],
        "seconds": round(time.monotonic() - start, 1),
        "workers": WORKERS,
        "calls": sum(calls.values()),
        "failures": sum(failures.values()),
        "byOperation": calls,
        "failuresByOperation": failures,
        "errors": errors,
        "accessKeys": sorted(access_keys),
        "credentialSources": sorted(methods),
        "clientsBuilt": sessions_built,
        "secretsSeen": len(secrets),
        "longestPauseSeconds": round(max(longest_pause, time.monotonic() - last_ok), 2),
    }
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
