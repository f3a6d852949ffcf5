"""The app's JWT keys by generation: which keys the app's secret holds at `jwtKeyGeneration` N.

At generation N the app signs new tokens with key N and accepts keys N-1, N and N+1:
- N-1, the previous key: a token signed before the last rotation keeps working until the next one;
- N+1, the next key, accepted before anything signs with it: during a rotation's rollout an instance (or pod)
  already on generation N+1 signs with it, and one still on N must accept those tokens, or users whose request
  lands there would be logged out for the length of the rollout.

Rotating is `jwtKeyGeneration` N -> N+1: key N+2 is generated, N+1 and N are kept unchanged, N-1 is dropped, so
tokens signed with N-1 (older than the previous key) are refused. Each key is its own generated password named
by its generation, so a rotation creates one resource and deletes one; none is ever replaced in place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

FIRST_GENERATION = 1


def key_id(generation: int) -> str:
    """The key's id as tokens name it (`kid` in their header). Not secret: every token carries it in the clear."""
    return f"gen-{generation}"


def key_generations(generation: int) -> tuple[int, ...]:
    """The generations whose keys the app holds at `generation`: previous (from the second on), current, next."""
    if generation < FIRST_GENERATION:
        raise ValueError(f"jwtKeyGeneration {generation} is below {FIRST_GENERATION}")
    return tuple(g for g in (generation - 1, generation, generation + 1) if g >= FIRST_GENERATION)


def jwt_settings(keys: Mapping[int, str], *, generation: int) -> dict[str, str]:
    """The app's JWT_KEYS (a JSON object kid -> key, on one line) and JWT_CURRENT_KID at `generation`; `keys`
    holds exactly the key of each generation key_generations names."""
    expected = key_generations(generation)
    if sorted(keys) != sorted(expected):
        raise ValueError(f"generation {generation} needs the keys of generations {expected}, got {tuple(sorted(keys))}")
    empty = [g for g in expected if not keys[g]]
    if empty:
        raise ValueError(f"the JWT keys of generations {empty} are empty")
    return {
        "JWT_KEYS": json.dumps({key_id(g): keys[g] for g in expected}, sort_keys=True),
        "JWT_CURRENT_KID": key_id(generation),
    }
