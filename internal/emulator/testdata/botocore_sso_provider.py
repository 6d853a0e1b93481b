"""botocore's own SSO credential provider against the emulator.

The Go test wrote AWS_CONFIG_FILE (the emulator's generated config) and a
token cache whose access token is inside botocore's refresh window, and set
AWS_PROFILE=emulator. botocore must refresh the token through the emulator
(CreateToken, refresh_token grant), then call GetRoleCredentials.
"""
import boto3

from emu_common import check

session = boto3.session.Session()
creds = session.get_credentials()
check(creds is not None and creds.method == "sso", "credentials come from the SSO provider (%s)" % getattr(creds, "method", None))
frozen = creds.get_frozen_credentials()
check(frozen.access_key.startswith("ASIA") and frozen.token, "temporary role credentials")
arn = session.client("sts").get_caller_identity()["Arn"]
check(":assumed-role/AWSReservedSSO_Developer_" in arn, "STS sees the SSO role: " + arn)
print("PASS")
