"""The config keys of the providers the program uses, read from the installed provider packages themselves.

Each Pulumi provider SDK is generated from its schema: `<package>/config/vars.py` reads every config key the
provider declares (`__config__.get('secretKey')`), and `<package>/provider.py` lists the ones the schema marks
secret (`additional_secret_outputs=[...]`). Reading those two files (as text: nothing is imported or run) keeps
the lists exactly in step with the pinned provider versions, with no hand-kept copy to rot.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from infra.config.errors import ConfigProblem

# Namespace -> the provider's Python package.
PROVIDER_PACKAGES = {"aws": "pulumi_aws", "mongodbatlas": "pulumi_mongodbatlas"}

# Credentials the mongodbatlas schema does not mark secret (its provider marks only `privateKey`), though each
# is one by the provider's own description: a service account's access token and client secret, and the AWS
# keys it may read the Atlas keys with. A test checks each still is a key of the installed provider.
UNMARKED_CREDENTIALS = {
    "mongodbatlas": frozenset({"accessToken", "clientSecret", "awsSecretAccessKey", "awsSessionToken"}),
}


@dataclass(frozen=True)
class ProviderKeys:
    namespace: str
    keys: frozenset[str]
    """Every config key the provider declares (without the namespace)."""
    secret: frozenset[str]
    """The keys that hold a credential: must be set with `pulumi config set --secret`."""


def _module_file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None
    return Path(spec.origin) if spec is not None and spec.origin else None


def _config_getter_keys(source: str) -> frozenset[str]:
    """The string passed to every `__config__.get*(...)` call in a generated `config/vars.py`."""
    keys = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "__config__"
            and node.func.attr.startswith("get")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            keys.add(node.args[0].value)
    return frozenset(keys)


def _secret_outputs(source: str) -> frozenset[str]:
    """The names in `additional_secret_outputs=[...]` of a generated `provider.py`: the schema's secret inputs."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "additional_secret_outputs"
            and isinstance(node.value, ast.List)
        ):
            names.update(item.value for item in node.value.elts if isinstance(item, ast.Constant))
    return frozenset(str(name) for name in names)


@cache
def provider_keys(namespace: str) -> ProviderKeys | None:
    """The provider's keys, or None when its package is not installed (nothing to check against)."""
    package = PROVIDER_PACKAGES[namespace]
    vars_file, provider_file = _module_file(f"{package}.config.vars"), _module_file(f"{package}.provider")
    if vars_file is None or provider_file is None:
        return None
    keys = _config_getter_keys(vars_file.read_text(encoding="utf-8"))
    marked = _secret_outputs(provider_file.read_text(encoding="utf-8"))
    secret = (marked | UNMARKED_CREDENTIALS.get(namespace, frozenset())) & keys
    return ProviderKeys(namespace=namespace, keys=keys, secret=frozenset(secret))


def _provider_namespace(full_key: str) -> str | None:
    namespace = full_key.split(":", 1)[0]
    return namespace if ":" in full_key and namespace in PROVIDER_PACKAGES else None


def plaintext_credentials(values: Mapping[str, str], secret_keys: frozenset[str], stack: str) -> list[ConfigProblem]:
    """A provider credential stored in plain text (set without --secret): refused like the project's own."""
    problems = []
    for full_key, value in sorted(values.items()):
        namespace = _provider_namespace(full_key)
        known = provider_keys(namespace) if namespace else None
        if known is None or not value or full_key in secret_keys:
            continue
        if full_key.split(":", 1)[1] in known.secret:
            problems.append(
                ConfigProblem(
                    full_key,
                    "is a credential stored in plain text in the stack file (readable by anyone with the repository);"
                    f" remove it and set it as a secret: pulumi config rm {full_key} --stack {stack} && "
                    f"pulumi config set --secret {full_key} <value> --stack {stack}"
                    " (or leave it out and use the provider's environment variables)",
                )
            )
    return problems


def unknown_provider_keys(values: Mapping[str, str]) -> list[ConfigProblem]:
    """Keys in a provider's namespace that the provider does not declare: a typo (`aws:regoin`) that the
    provider would ignore, leaving the setting at its default. Warnings, with the closest declared key."""
    warnings = []
    for full_key in sorted(values):
        namespace = _provider_namespace(full_key)
        known = provider_keys(namespace) if namespace else None
        name = full_key.split(":", 1)[1]
        if namespace is None or known is None or name in known.keys:
            continue
        close = difflib.get_close_matches(name, sorted(known.keys), n=1)
        hint = f"did you mean {namespace}:{close[0]}?" if close else f"its keys: {', '.join(sorted(known.keys))}"
        warnings.append(
            ConfigProblem(
                full_key,
                f"not a config key of the {namespace} provider ({PROVIDER_PACKAGES[namespace]}), which ignores it;"
                f" {hint}",
            )
        )
    return warnings


def is_provider_credential(full_key: str) -> bool:
    namespace = _provider_namespace(full_key)
    known = provider_keys(namespace) if namespace else None
    return known is not None and full_key.split(":", 1)[1] in known.secret
