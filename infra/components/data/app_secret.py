"""The app's one secret: its runtime settings as a JSON object in AWS Secrets Manager.

Everything secret the app needs (database and cache credentials, its signing keys) is assembled here from
Pulumi secret outputs, so no credential ever appears in config, in stack outputs or in the plan. The compute
side receives only the secret's ARN.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.planning.data.app_settings import app_settings_document, settings_digest
from infra.planning.data.jwt_keys import key_generations
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import protection_for

# Long enough for HS256 (the app refuses secrets under 32 characters); letters and digits only, so the value
# survives shells, env files and URLs unquoted.
GENERATED_SECRET_LENGTH = 64


@dataclass(frozen=True)
class AppSecretArgs:
    name_prefix: str
    is_production: bool
    mongo_url: pulumi.Output[str]
    """Secret output: the app's MONGO_URL, with credentials and the database name."""
    redis_url: pulumi.Output[str]
    """Secret output: the app's REDIS_URL, with the auth token."""
    bucket_name: pulumi.Output[str]
    cdn_domain: pulumi.Output[str] | None
    """The host name files are served from, or None without a CDN."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins the API answers cross-origin requests from (the app's CORS_ORIGINS)."""
    cdn_signing_key_id: pulumi.Output[str] | None = None
    """The CloudFront public key id the app names in signed download URLs; None without a CDN."""
    cdn_signing_private_key: pulumi.Output[str] | None = None
    """Secret output: the PEM key the app signs download URLs with; None without a CDN."""
    jwt_key_generation: int = 1
    """`jwtKeyGeneration`: the app holds the keys of the previous, this and the next generation."""


class AppSecret(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    settings: pulumi.Output[str]
    """The secret's JSON document, a secret output: tier B puts the same values in a Kubernetes Secret."""
    settings_digest: pulumi.Output[str]
    """SHA-256 of the document (not secret): where it changes, the app must roll to read the new settings."""

    def __init__(self, name: str, args: AppSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:secrets:AppSecret", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        guard = protection_for(args.is_production)

        # One password per key generation, named by it: a rotation (generation N -> N+1) creates generation N+2's,
        # keeps N+1's and N's unchanged and deletes N-1's. Nothing is replaced in place, so no kept key changes.
        generations = key_generations(args.jwt_key_generation)
        jwt_keys = [
            random.RandomPassword(
                child_name(name, f"jwt-key-{generation}"), length=GENERATED_SECRET_LENGTH, special=False, opts=child
            )
            for generation in generations
        ]
        health_token = random.RandomPassword(
            child_name(name, "health-token"), length=GENERATED_SECRET_LENGTH, special=False, opts=child
        )

        secret = aws.secretsmanager.Secret(
            child_name(name, "secret"),
            description=f"Runtime settings of the {args.name_prefix} app (JSON; one key per environment variable)",
            # No kms_key_id: the AWS-managed key aws/secretsmanager, so the instance role needs no KMS grant.
            recovery_window_in_days=guard.secret_recovery_window_days,
            tags=name_tag(args.name_prefix, "app-settings"),
            opts=pulumi.ResourceOptions(parent=self, protect=guard.protect, retain_on_delete=guard.retain_on_delete),
        )
        cdn_domain: pulumi.Input[str | None] = args.cdn_domain if args.cdn_domain is not None else None
        signing_key_id: pulumi.Input[str | None] = args.cdn_signing_key_id
        signing_key: pulumi.Input[str | None] = args.cdn_signing_private_key
        document = pulumi.Output.all(
            args.mongo_url,
            args.redis_url,
            health_token.result,
            args.bucket_name,
            cdn_domain,
            signing_key_id,
            signing_key,
            *(key.result for key in jwt_keys),
        ).apply(
            lambda v: app_settings_document(
                mongo_url=v[0],
                redis_url=v[1],
                jwt_keys=dict(zip(generations, v[7:], strict=True)),
                jwt_key_generation=args.jwt_key_generation,
                health_detailed_token=v[2],
                s3_bucket=v[3],
                cdn_domain=v[4],
                cors_origins=args.cors_origins,
                cdn_signing_key_id=v[5],
                cdn_signing_private_key_pem=v[6],
            )
        )
        # A new version on every change; the version is not protected, so rotating a password can replace it.
        aws.secretsmanager.SecretVersion(
            child_name(name, "version"),
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(document),
            opts=child,
        )
        self.arn = secret.arn
        self.settings = pulumi.Output.secret(document)
        # Not secret: a digest of a document holding 64-character generated keys reveals none of it.
        self.settings_digest = pulumi.Output.unsecret(document.apply(settings_digest))
        self.register_outputs({"arn": self.arn, "settingsDigest": self.settings_digest})
