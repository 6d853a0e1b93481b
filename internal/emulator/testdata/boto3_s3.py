"""S3 through boto3 with credentials handed over directly and an explicit
endpoint_url, so it runs on boto3 1.26 (Debian), which ignores
AWS_ENDPOINT_URL_*. It never uses an SSO profile: such a client would call
real AWS.

Env: EMU_URL, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_SESSION_TOKEN, BUCKET.
"""
import os

import boto3
from botocore.config import Config

import s3_checks
from emu_common import EMU

s3 = boto3.session.Session().client(
    "s3", endpoint_url=EMU, region_name="us-east-1",
    aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
    aws_session_token=os.environ["S3_SESSION_TOKEN"],
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))
s3_checks.exercise(s3, os.environ["BUCKET"])
print("PASS")
