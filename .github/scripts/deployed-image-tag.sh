#!/usr/bin/env bash
# Prints `tag=<image>` to $GITHUB_OUTPUT: the image stack $1 runs (its appImageTag output), so that a preview or a
# drift check compares the program, not a new image, with what is deployed. A stack that exports none yet (never
# deployed, or deployed before the output existed) gets $2 (the commit's tag), with a notice.
# Needs the Pulumi CLI, and the backend's credentials in the environment (PULUMI_ACCESS_TOKEN, or
# PULUMI_BACKEND_URL with the cloud credentials it needs).
set -euo pipefail
stack="$1"; fallback="$2"
pulumi login >/dev/null
if tag=$(pulumi stack output appImageTag --stack "$stack" 2>/dev/null) && [ -n "$tag" ]; then
  source="the stack's appImageTag output"
else
  tag="$fallback"
  source="this commit (the stack exports no appImageTag yet)"
  echo "::notice title=Image of $stack::no appImageTag output: using $tag"
fi
# Only a tag or a digest, as the config accepts: the value goes into the action's config-map.
if ! [[ "$tag" =~ ^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$ ]]; then
  echo "::error title=Image of $stack::'$tag' is neither an image tag nor a sha256 digest"
  exit 1
fi
echo "image of $stack: $tag ($source)"
echo "tag=$tag" >> "$GITHUB_OUTPUT"
