"""Sign requests with botocore's own SigV4 signers, as an oracle for the Go verifier.

Reads a JSON list of cases on stdin, writes a JSON list of signed requests
(method, request target, headers, base64 body) on stdout. Nothing is sent
anywhere: the Go test replays the bytes into the verifier in-process.
Credentials come from the cases (test values), never from a profile.
"""
import base64
import json
import sys
from urllib.parse import urlsplit

import botocore
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    creds = Credentials(case["key"], case["secret"], case.get("token") or None)
    body = base64.b64decode(case.get("body", ""))
    req = AWSRequest(method=case["method"], url=case["url"], data=body, headers=case.get("headers", {}))
    if case["kind"] == "s3":
        S3SigV4Auth(creds, "s3", case["region"]).add_auth(req)
    elif case["kind"] == "s3-presign":
        S3SigV4QueryAuth(creds, "s3", case["region"], expires=case["expires"]).add_auth(req)
    else:
        SigV4Auth(creds, case["kind"], case["region"]).add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = [[k, v if isinstance(v, str) else v.decode()] for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ["Host", parts.netloc])
    data = prepared.body or b""
    if isinstance(data, str):
        data = data.encode()
    return {"method": prepared.method, "target": target, "headers": headers,
            "body": base64.b64encode(data).decode()}


def main():
    cases = json.load(sys.stdin)
    out = {"botocore": botocore.__version__, "requests": [sign(c) for c in cases]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
