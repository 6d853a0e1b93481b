#!/bin/sh
# The person who reads ssokeep's notifications, played by a script: on a
# login request it approves exactly the code it was told about, through the
# emulator's control API, and notes the code (a user code is not a secret).
# ssokeep runs it with SSOKEEP_* in the environment, next to its own
# environment (AWS_ENDPOINT_URL_SSO_OIDC, SURVIVAL_APPROVALS). With
# SURVIVAL_APPROVE=no it plays a person who is away: it notes the code only.
set -eu
[ "${SSOKEEP_EVENT:-}" = login-required ] || exit 0
if [ "${SURVIVAL_APPROVE:-yes}" = no ]; then
  echo "$SSOKEEP_USER_CODE ignored" >>"$SURVIVAL_APPROVALS"
  exit 0
fi
case "${SSOKEEP_VERIFICATION_URL:-}" in
"$AWS_ENDPOINT_URL_SSO_OIDC"/*) ;;
*) echo "approve.sh: verification URL ${SSOKEEP_VERIFICATION_URL:-(none)} is not the emulator's" >&2; exit 1 ;;
esac
answer=$(curl -fsS -X POST -d "{\"userCode\":\"$SSOKEEP_USER_CODE\"}" "$AWS_ENDPOINT_URL_SSO_OIDC/_emulator/approve")
echo "$SSOKEEP_USER_CODE $answer" >>"$SURVIVAL_APPROVALS"
