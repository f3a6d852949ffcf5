"""The policy pack's entry point: the Pulumi CLI runs this file (`pulumi preview --policy-pack policy`).

Every rule lives in infra/policy, shared with `python -m infra.cli check`; this file only serves them.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policy.pack import PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    # Each policy carries its own level (the registry's mandatory or advisory); this is only the fallback.
    enforcement_level=EnforcementLevel.MANDATORY,
)
