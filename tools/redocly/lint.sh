#!/usr/bin/env bash
# Lint an OpenAPI document with the pinned Redocly CLI and redocly.yaml beside this
# script (the `recommended` ruleset; the ignored problems are listed, each with its
# reason, in .redocly.lint-ignore.yaml). Offline: no usage data, no update check.
#
#   npm ci --prefix tools/redocly --no-audit --no-fund   # once, from package-lock.json
#   tools/redocly/lint.sh                                 # docs/openapi.json
#   tools/redocly/lint.sh path/to/openapi.json [more redocly lint options]
#
# Exits non-zero on any error (a warning alone exits 0), on an invalid redocly.yaml,
# and when the CLI is not installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
redocly="$here/node_modules/.bin/redocly"
if [[ ! -x "$redocly" ]]; then
    echo "lint.sh: $redocly is missing: run npm ci --prefix tools/redocly" >&2
    exit 2
fi
spec="$root/docs/openapi.json"
if [[ $# -gt 0 && "$1" != -* ]]; then
    spec="$1"
    shift
fi
format=(--format stylish)  # one line per problem; a --format given wins
for arg in "$@"; do
    if [[ "$arg" == --format* ]]; then
        format=()
    fi
done
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true
# The CLI's boxed "Node.js 20 support is ending" notice (stderr, on every run, no
# switch to silence it) is dropped; everything else it prints is kept.
exec "$redocly" lint "$spec" --config "$here/redocly.yaml" --lint-config error \
    "${format[@]}" "$@" 2> >(grep -v '[║╔╚]' >&2)
