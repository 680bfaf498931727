#!/usr/bin/env bash
# Runs the OpenID Foundation conformance suite (docker) against a deployment of Aidants IdP,
# with the plan configurations of this folder.
#
#   conformance/official/run-official-suite.sh https://aidants-idp.example.gouv.fr [plan…]
#
# Plans: basic config formpost rp-initiated-logout backchannel-logout (default: all).
# Needs: docker with compose, git, python3, envsubst (gettext), oathtool (for the one-time code).
# The values substituted in the JSON files come from the environment (see conformance/README.md):
#   CLIENT_ID CLIENT_SECRET CLIENT2_ID CLIENT2_SECRET CLIENT_POST_ID CLIENT_POST_SECRET
#   LOGOUT_CLIENT_ID LOGOUT_CLIENT_SECRET BACKCHANNEL_CLIENT_ID BACKCHANNEL_CLIENT_SECRET
#   AIDANT_EMAIL AIDANT_PASSWORD AIDANT_TOTP_SECRET USAGER_ID DEMARCHE
set -euo pipefail

ISSUER="${1:?usage: $0 ISSUER_URL [plan…]}"
shift
PLANS=("$@")
[ ${#PLANS[@]} -eq 0 ] && PLANS=(config basic formpost rp-initiated-logout backchannel-logout)

HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${CONFORMANCE_SUITE_DIR:-$HOME/.cache/aidants-idp/conformance-suite}"
SUITE_REPO="${CONFORMANCE_SUITE_REPO:-https://gitlab.com/openid/conformance-suite.git}"
SUITE_URL="${CONFORMANCE_SERVER:-https://localhost.emobix.co.uk:8443/}"

for tool in docker git python3 envsubst; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
docker info >/dev/null 2>&1 || { echo "no docker engine reachable: the suite cannot run here" >&2; exit 2; }

# 1. The suite itself: its repository, built with its own Maven image, started with compose
#    (server + MongoDB + nginx on https://localhost.emobix.co.uk:8443).
if [ ! -d "$WORK/.git" ]; then
    git clone --depth 1 "$SUITE_REPO" "$WORK"
fi
(
    cd "$WORK"
    docker run --rm -v "$PWD":/usr/src/mymaven -v "$HOME/.m2":/root/.m2 -w /usr/src/mymaven \
        maven:3-eclipse-temurin-17 mvn -B -DskipTests=true clean package
    docker compose -f docker-compose-dev.yml up -d
)
echo "waiting for the suite at $SUITE_URL"
for _ in $(seq 1 120); do
    curl -ksf "$SUITE_URL" >/dev/null && break
    sleep 5
done

# 2. The configurations, with this deployment's values.
export ISSUER="${ISSUER%/}"
export ALIAS_SUFFIX="${ALIAS_SUFFIX:-$(date +%s)}"
OUT="$(mktemp -d)"
for plan in "${PLANS[@]}"; do
    src="$HERE/$plan.json"
    [ -f "$src" ] || { echo "unknown plan $plan" >&2; exit 2; }
    if command -v oathtool >/dev/null && [ -n "${AIDANT_TOTP_SECRET:-}" ]; then
        # One code per plan: the helper's login session then carries the plan's modules.
        export AIDANT_OTP="$(oathtool --totp -b "$AIDANT_TOTP_SECRET")"
    fi
    envsubst < "$src" > "$OUT/$plan.json"
done

# 3. The suite's own runner: one plan per configuration, variants taken from each file.
cd "$WORK"
pip install --quiet -r scripts/requirements.txt 2>/dev/null || true
status=0
for plan in "${PLANS[@]}"; do
    cfg="$OUT/$plan.json"
    name="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["_plan"])' "$cfg")"
    # run-test-plan.py takes the variants as plan-name[key=value][key=value].
    variant="$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["_variant"]; print("".join(f"[{k}={x}]" for k, x in v.items()))' "$cfg")"
    echo "== $name$variant"
    CONFORMANCE_SERVER="$SUITE_URL" CONFORMANCE_DEV_MODE=1 \
        python3 scripts/run-test-plan.py "$name$variant" "$cfg" || status=1
done
exit $status
