#!/usr/bin/env bash
# Opens the issue "Drift: stack <stack>" (label `drift`), or comments on it when it is already open, so a stack
# that stays drifted gets one issue with a comment per night rather than an issue per night.
# Needs the GitHub CLI with GH_TOKEN (issues: write) and GH_REPO.
set -euo pipefail
stack="$1"; run_url="$2"
title="Drift: stack $stack"
body="\`pulumi preview --refresh --expect-no-changes\` of stack \`$stack\` failed on $(date -u +%Y-%m-%d): the cloud no \
longer matches the program, or the check could not run. The run's log has the diff (or the error): $run_url

Fix: run \`pulumi preview --refresh --stack $stack\` to see the difference, then either \`pulumi up\` (the program \
wins) or change the program (the cloud wins), or \`pulumi refresh\` to accept the cloud's values in the state."
gh label create drift --color D93F0B --description "The cloud differs from the Pulumi program" --force >/dev/null
existing=$(gh issue list --label drift --state open --search "\"$title\" in:title" --json number,title \
  --jq "map(select(.title == \"$title\")) | .[0].number // empty")
if [ -n "$existing" ]; then
  gh issue comment "$existing" --body "$body"
  echo "updated issue #$existing"
else
  gh issue create --title "$title" --label drift --body "$body"
fi
