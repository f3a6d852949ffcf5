"""The Datadog agent's API key for the EC2 hosts (datadogEnabled): a Secrets Manager secret of its own, holding
the stack's `datadogApiKey` (a Pulumi secret end to end). Each host's role may read this secret and no other
besides the app's; the key reaches the agent through a root-only env file, never through user data."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.planning.naming import child_name, name_tag


@dataclass(frozen=True)
class DatadogOnHosts:
    """The agent's settings for a fleet's hosts: its site, and the secret holding its key (the ARN only)."""

    site: str
    api_key_secret_arn: pulumi.Input[str]


@dataclass(frozen=True)
class DatadogApiKeyArgs:
    name_prefix: str
    api_key: pulumi.Input[str]
    """A Pulumi secret (config's datadogApiKey)."""


class DatadogApiKey(pulumi.ComponentResource):
    secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatadogApiKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:datadog:DatadogApiKey", name, None, opts)
        secret = aws.secretsmanager.Secret(
            child_name(name, "secret"),
            name_prefix=f"{args.name_prefix}/datadog-api-key-",
            description=f"{args.name_prefix}: the Datadog agent's API key (config datadogApiKey)",
            tags=name_tag(args.name_prefix, "datadog-api-key"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.secretsmanager.SecretVersion(
            child_name(name, "value"),
            secret_id=secret.id,
            # Secret end to end: the engine encrypts it in the state and the plan shows [secret].
            secret_string=pulumi.Output.secret(args.api_key),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_arn = secret.arn
        self.register_outputs({"secretArn": self.secret_arn})
