"""The app image repository's lifecycle policy (ECR), as a pure JSON document."""

from __future__ import annotations

import json

# Releases kept for rollback. A running fleet's image must never expire: 30 releases is months of history
# at a few deploys a week, and the lifecycle rule below counts tagged images only.
IMAGES_KEPT = 30


def lifecycle_policy(images_kept: int = IMAGES_KEPT) -> str:
    """Keep the newest `images_kept` tagged images; expire older tags.

    There is deliberately no rule for untagged images: a multi-architecture image is a tagged index whose
    per-architecture manifests are untagged, and a rule on untagged images could expire the very
    architecture a kept tag still points to.
    """
    if images_kept < 1:
        raise ValueError("keep at least one image")
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Keep the newest {images_kept} tagged images (releases to roll back to)",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": ["*"],
                        "countType": "imageCountMoreThan",
                        "countNumber": images_kept,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )
