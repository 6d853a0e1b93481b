"""Drive the emulator's S3 endpoint with boto3, the way Metaflow and scripts use it.

Run by s3api's Go tests with the interpreter under test (pip boto3 1.43 or
Debian's 1.26). Everything comes from the environment:
  S3_ENDPOINT   http(s)://127.0.0.1:PORT (loopback only)
  S3_KEY_ID, S3_SECRET, S3_TOKEN   session credentials (never a profile)
  S3_CA_BUNDLE  PEM of the test server's certificate, for https
  S3_BUCKET     bucket name to create
Exits non-zero on the first mismatch. Never prints a credential.
"""
import hashlib
import os
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["S3_ENDPOINT"]
if urlsplit(ENDPOINT).hostname != "127.0.0.1":
    sys.exit("refusing to run against a non-loopback endpoint")
CA = os.environ.get("S3_CA_BUNDLE") or None
BUCKET = os.environ["S3_BUCKET"]


def client(secret=None, token=None, **config):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=os.environ["S3_KEY_ID"],
        aws_secret_access_key=secret or os.environ["S3_SECRET"],
        aws_session_token=token or os.environ["S3_TOKEN"],
        verify=CA if ENDPOINT.startswith("https") else None,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


def check(cond, what):
    if not cond:
        sys.exit("MISMATCH: " + what)
    print("ok:", what)


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def md5(b):
    return '"' + hashlib.md5(b).hexdigest() + '"'


def main():
    print("boto3", boto3.__version__, "botocore", botocore.__version__, "endpoint", urlsplit(ENDPOINT).scheme)
    s3 = client()
    s3.create_bucket(Bucket=BUCKET)
    check(BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]], "list_buckets shows the bucket")

    objects = {
        "plain.txt": b"hello from boto3\n" * 100,
        "dir/a b+c%d.txt": b"odd key" * 10,
        "unicode/\u65e5\u672c\u8a9e/\u043a\u043b\u044e\u0447.bin": bytes(range(256)) * 4,
        "dir/sub/deep": b"deep",
        "empty": b"",
    }
    for key, body in objects.items():
        out = s3.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata={"origin": "boto3"}, ContentType="text/plain")
        check(out["ETag"] == md5(body), "put_object ETag is the MD5 of %r" % key)
    for key, body in objects.items():
        got = s3.get_object(Bucket=BUCKET, Key=key)
        check(got["Body"].read() == body, "get_object body of %r" % key)
        check(got["Metadata"].get("origin") == "boto3" and got["ContentType"] == "text/plain",
              "metadata of %r (got %r, %r)" % (key, got["Metadata"], got["ContentType"]))
        head = s3.head_object(Bucket=BUCKET, Key=key)
        check(head["ContentLength"] == len(body) and head["ETag"] == md5(body), "head_object of %r" % key)

    rng = s3.get_object(Bucket=BUCKET, Key="plain.txt", Range="bytes=6-9")
    check(rng["Body"].read() == b"from" and rng["ContentRange"] == "bytes 6-9/1700", "ranged get_object")
    check(error_code(lambda: s3.get_object(Bucket=BUCKET, Key="missing")) == "NoSuchKey", "missing key is NoSuchKey")

    s3.copy_object(Bucket=BUCKET, Key="copy/of-odd", CopySource={"Bucket": BUCKET, "Key": "dir/a b+c%d.txt"})
    check(s3.get_object(Bucket=BUCKET, Key="copy/of-odd")["Body"].read() == objects["dir/a b+c%d.txt"], "copy_object content")

    want = sorted(list(objects) + ["copy/of-odd"])
    paged = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 2}):
        paged += [o["Key"] for o in page.get("Contents", [])]
    check(paged == want, "list_objects_v2 paginated (page size 2) lists every key once, in order")
    v1 = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 2}):
        v1 += [o["Key"] for o in page.get("Contents", [])]
    check(v1 == want, "list_objects (v1) paginated lists every key once")
    top = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    check([p["Prefix"] for p in top.get("CommonPrefixes", [])] == ["copy/", "dir/", "unicode/"], "delimiter groups prefixes")
    check([o["Key"] for o in top.get("Contents", [])] == ["empty", "plain.txt"], "delimiter keeps top-level keys")
    sub = s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/", Delimiter="/")
    check([o["Key"] for o in sub.get("Contents", [])] == ["dir/a b+c%d.txt"], "prefix listing decodes odd keys")
    check(s3.list_objects_v2(Bucket=BUCKET, StartAfter="empty")["Contents"][0]["Key"] == "plain.txt", "start-after")

    # 20 MB through the transfer manager: multipart above 8 MB, 3 parts.
    data = os.urandom(20 * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "up.bin"), os.path.join(tmp, "down.bin")
        with open(src, "wb") as f:
            f.write(data)
        cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
        s3.upload_file(src, BUCKET, "big/20mb.bin", Config=cfg)
        etag = s3.head_object(Bucket=BUCKET, Key="big/20mb.bin")["ETag"]
        check(etag.endswith('-3"'), "20 MB upload_file went multipart in 3 parts (ETag %s)" % etag)
        s3.download_file(BUCKET, "big/20mb.bin", dst, Config=cfg)
        with open(dst, "rb") as f:
            check(hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest(), "download_file content equals upload")

    # Against a custom endpoint botocore presigns with SigV2 unless told
    # s3v4; the emulator, like S3 for new buckets, refuses SigV2 clearly.
    ctx = ssl.create_default_context(cafile=CA) if ENDPOINT.startswith("https") else None
    default_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "plain.txt"}, ExpiresIn=300)
    if "X-Amz-Signature=" not in default_url:
        try:
            urllib.request.urlopen(default_url, context=ctx)
            check(False, "a SigV2 presigned URL is refused")
        except urllib.error.HTTPError as e:
            check(e.code == 400 and b"AWS4-HMAC-SHA256" in e.read(), "a SigV2 presigned URL is refused with 400 and a hint")
    url = client(signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "dir/a b+c%d.txt"}, ExpiresIn=300)
    params = sorted(p.split("=")[0] for p in urlsplit(url).query.split("&"))
    try:
        with urllib.request.urlopen(url, context=ctx) as resp:
            check(resp.read() == objects["dir/a b+c%d.txt"], "presigned GET fetched with urllib (%s)" % ",".join(params))
    except urllib.error.HTTPError as e:
        sys.exit("MISMATCH: presigned GET (%s) refused: %d %s" % (",".join(params), e.code, e.read().decode()))
    head, sig = url.split("X-Amz-Signature=", 1)
    damaged = head + "X-Amz-Signature=" + ("1" if sig[0] == "0" else "0") + sig[1:]
    try:
        urllib.request.urlopen(damaged, context=ctx)
        check(False, "a presigned URL with a changed signature is refused")
    except urllib.error.HTTPError as e:
        check(e.code == 403 and b"SignatureDoesNotMatch" in e.read(), "a presigned URL with a changed signature is refused (403)")

    bad = client(secret=os.environ["S3_SECRET"] + "x")
    check(error_code(lambda: bad.head_bucket(Bucket=BUCKET)) in ("403", "SignatureDoesNotMatch"), "wrong secret is refused")
    check(error_code(lambda: bad.list_objects_v2(Bucket=BUCKET)) == "SignatureDoesNotMatch", "wrong secret: SignatureDoesNotMatch")
    other = client(token=os.environ["S3_TOKEN"] + "x")
    check(error_code(lambda: other.list_objects_v2(Bucket=BUCKET)) == "InvalidToken", "wrong token: InvalidToken")

    s3.delete_object(Bucket=BUCKET, Key="copy/of-odd")
    out = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in list(objects) + ["big/20mb.bin"]]})
    check(len(out.get("Deleted", [])) == len(objects) + 1 and not out.get("Errors"), "delete_objects")
    check(s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0, "bucket empty after deletes")
    s3.delete_bucket(Bucket=BUCKET)
    print("all checks passed")


if __name__ == "__main__":
    main()
