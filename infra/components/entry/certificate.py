"""The API's TLS certificate: ACM, DNS-validated in the stack's Route 53 zone, renewed by ACM for as long as
the validation record exists. Built under the load balancer component (parent)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.planning.naming import child_name, name_tag

VALIDATION_RECORD_TTL_SECONDS = 300


def validated_certificate(
    parent: pulumi.Resource, name: str, *, name_prefix: str, domain: str, hosted_zone_id: str
) -> pulumi.Output[str]:
    """The certificate's ARN, known only once ACM has validated it: a listener using it never gets a pending
    certificate."""
    certificate = aws.acm.Certificate(
        child_name(name, "certificate"),
        domain_name=domain,
        validation_method="DNS",
        key_algorithm="EC_prime256v1",  # smaller, faster handshakes than RSA 2048, accepted by every modern client
        tags=name_tag(name_prefix, "api-certificate"),
        # A replacement certificate is issued and validated before the old one is released (the default order).
        opts=pulumi.ResourceOptions(parent=parent),
    )
    # One domain, no alternative names: exactly one validation record, so no resource is created in .apply().
    option = certificate.domain_validation_options.apply(lambda options: options[0])
    record = aws.route53.Record(
        child_name(name, "certificate-validation-record"),
        zone_id=hosted_zone_id,
        name=option.apply(lambda o: o.resource_record_name or ""),
        type=option.apply(lambda o: o.resource_record_type or "CNAME"),
        records=[option.apply(lambda o: o.resource_record_value or "")],
        ttl=VALIDATION_RECORD_TTL_SECONDS,
        allow_overwrite=True,  # the same CNAME is reused when the certificate is replaced
        opts=pulumi.ResourceOptions(parent=parent),
    )
    validation = aws.acm.CertificateValidation(
        child_name(name, "certificate-validation"),
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return validation.certificate_arn
