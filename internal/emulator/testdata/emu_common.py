"""Helpers shared by the emulator's Python interop scripts.

The Go test that runs a script sets AWS_ENDPOINT_URL_* to the emulator
(loopback only), EMU_URL to its base URL, EMU_START_URL, and EMU_ADVANCE_URL
to a test-only endpoint that moves the emulator's injected clock.
"""
import json
import os
import sys
import urllib.request

from botocore.exceptions import ClientError

EMU = os.environ["EMU_URL"]
START_URL = os.environ.get("EMU_START_URL", "")
ADVANCE = os.environ.get("EMU_ADVANCE_URL", "")


import time as _time
_T0 = _time.time()

def check(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)
    print("ok: %.2fs %s" % (_time.time() - _T0, what))


def _call(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def control(method, path, body=None):
    return _call(method, EMU + "/_emulator/" + path, body)


def advance(seconds):
    """Moves the emulator's clock (not the client's)."""
    _call("POST", ADVANCE + "?seconds=" + str(seconds))


def error_code(fn, *args, **kwargs):
    """Runs fn and returns the AWS error code it raised, or None."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None
