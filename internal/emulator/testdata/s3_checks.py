"""The S3 round trip every boto3 interop script runs."""
import hashlib
import io
import os
import urllib.error
import urllib.request

from boto3.s3.transfer import TransferConfig

from emu_common import check


def exercise(s3, bucket):
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/small.txt", Body=b"hello from boto3")
    check(s3.get_object(Bucket=bucket, Key="dir/small.txt")["Body"].read() == b"hello from boto3", "put + get")
    check(s3.get_object(Bucket=bucket, Key="dir/small.txt", Range="bytes=6-9")["Body"].read() == b"from", "ranged get")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]]
    check(keys == ["dir/small.txt"], "list_objects_v2: %r" % keys)

    # 20 MiB with the transfer manager: multipart above the 8 MiB threshold.
    data = os.urandom(20 * 1024 * 1024)
    cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big.bin", Config=cfg)
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big.bin", out, Config=cfg)
    check(hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest(), "multipart upload round-trips 20 MiB")
    check(s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == len(data), "head_object size")

    # The client is configured with signature_version="s3v4": by default boto3
    # presigns with SigV2, which the emulator refuses as new S3 buckets do.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/small.txt"}, ExpiresIn=600)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        body = e.read()
    check(body == b"hello from boto3", "presigned GET: %r" % body[:300])
