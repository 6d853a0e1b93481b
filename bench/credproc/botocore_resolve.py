"""botocore resolving an SSO profile from the AWS CLI's role-credential cache, as `aws` itself does.

boto3 alone keeps SSO role credentials in memory only, so a fresh boto3 process always calls
GetRoleCredentials; the AWS CLI hands its SSO provider a JSONFileCache on ~/.aws/cli/cache (cli2
customizations/sso), and so do we here. With a valid cached set this is local work only: run.sh points
every AWS_ENDPOINT_URL_* at a closed loopback port, so a network call would fail, not hide in the timing.

Usage: botocore_resolve.py PROFILE  (prints the access key id, never the secret)
"""
import os
import sys

import botocore.session
from botocore.utils import JSONFileCache

session = botocore.session.Session(profile=sys.argv[1])
resolver = session.get_component("credential_provider")
resolver.get_provider("sso").cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "cli", "cache")))
creds = session.get_credentials().get_frozen_credentials()
print(creds.access_key)
