"""boto3 against the emulator's SSO OIDC, portal, STS and S3: the session rules.

Run by TestBoto3Sessions with the emulator's clock under the test's control.
SESSION_SECONDS and ROLE_SECONDS tell the script the emulator's settings.
"""
import os
from datetime import datetime

import boto3
from botocore.config import Config

import s3_checks
from emu_common import START_URL, advance, check, control, error_code

SESSION = int(os.environ["SESSION_SECONDS"])
ROLE = int(os.environ["ROLE_SECONDS"])
ACCOUNT, ROLE_NAME = "111122223333", "Developer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

session = boto3.session.Session()
cfg = Config(retries={"max_attempts": 1})
oidc = session.client("sso-oidc", config=cfg)
sso = session.client("sso", config=cfg)

reg = oidc.register_client(clientName="boto3-test", clientType="public", scopes=["sso:account:access"])
client = {"clientId": reg["clientId"], "clientSecret": reg["clientSecret"]}


def login():
    da = oidc.start_device_authorization(startUrl=START_URL, **client)
    check(da["verificationUriComplete"].endswith("user_code=" + da["userCode"]), "verification URI carries the user code")
    code = error_code(oidc.create_token, grantType=DEVICE_GRANT, deviceCode=da["deviceCode"], **client)
    check(code == "AuthorizationPendingException", "CreateToken before approval: " + str(code))
    control("POST", "approve", {"userCode": da["userCode"]})
    return oidc.create_token(grantType=DEVICE_GRANT, deviceCode=da["deviceCode"], **client)


def live_session():
    st = control("GET", "stats")
    check(len(st["sessions"]) == 1, "one live session")
    return st["sessions"][0]["end"], st["now"]


tok = login()
check(tok["expiresIn"] == 3600 and tok.get("refreshToken"), "refreshable token, 1 h")
first_end, _ = live_session()

# Role credentials: expiration in milliseconds, usable with STS.
rc = sso.get_role_credentials(roleName=ROLE_NAME, accountId=ACCOUNT, accessToken=tok["accessToken"])["roleCredentials"]
check(rc["expiration"] > 10**12, "expiration is epoch milliseconds")
accounts = [a["accountId"] for p in sso.get_paginator("list_accounts").paginate(accessToken=tok["accessToken"]) for a in p["accountList"]]
check(accounts == [ACCOUNT], "ListAccounts: " + repr(accounts))
roles = sso.list_account_roles(accessToken=tok["accessToken"], accountId=ACCOUNT)["roleList"]
check([r["roleName"] for r in roles] == [ROLE_NAME], "ListAccountRoles")
sts = session.client("sts", aws_access_key_id=rc["accessKeyId"], aws_secret_access_key=rc["secretAccessKey"],
                     aws_session_token=rc["sessionToken"], config=cfg)
arn = sts.get_caller_identity()["Arn"]
check(":assumed-role/AWSReservedSSO_Developer_" in arn and arn.endswith("/emulator-user"), "caller identity " + arn)

# S3 with those credentials, through AWS_ENDPOINT_URL_S3.
s3 = session.client("s3", aws_access_key_id=rc["accessKeyId"], aws_secret_access_key=rc["secretAccessKey"],
                    aws_session_token=rc["sessionToken"], config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))
s3_checks.exercise(s3, "boto3-sessions")

# After the role duration the same credentials are expired.
advance(ROLE)
check(error_code(sts.get_caller_identity) == "ExpiredToken", "STS: role credentials expire after ROLE_SECONDS")
code = error_code(s3.list_objects_v2, Bucket="boto3-sessions")
check(code == "ExpiredToken", "S3: role credentials expire after ROLE_SECONDS: " + str(code))

# Refresh works inside the session and returns a new refresh token.
r1 = oidc.create_token(grantType="refresh_token", refreshToken=tok["refreshToken"], **client)
check(r1["refreshToken"] != tok["refreshToken"], "refresh returns a new refresh token")

# A second login while the session is alive joins it: same end.
tok2 = login()
end2, _ = live_session()
check(end2 == first_end, "second login keeps the session end %s (got %s)" % (first_end, end2))

# At the session end refresh fails with InvalidGrantException.
advance(SESSION - ROLE)
code = error_code(oidc.create_token, grantType="refresh_token", refreshToken=tok2["refreshToken"], **client)
check(code == "InvalidGrantException", "refresh after the session end: " + str(code))
code = error_code(sso.get_role_credentials, roleName=ROLE_NAME, accountId=ACCOUNT, accessToken=tok2["accessToken"])
check(code == "UnauthorizedException", "portal refuses a token of an ended session: " + str(code))

# A new login starts a new session; Logout ends it; the next login is full length.
tok3 = login()
advance(600)  # within the token's hour
sso.logout(accessToken=tok3["accessToken"])
check(control("GET", "stats")["sessions"] == [], "Logout ends the session")
login()
end4, now4 = live_session()
length = (datetime.fromisoformat(end4) - datetime.fromisoformat(now4)).total_seconds()
check(length == SESSION, "a login after Logout starts a full-length session (%s s)" % length)
print("PASS")
