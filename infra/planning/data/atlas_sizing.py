"""The private CIDR Atlas peers from, and the check that it stays clear of the VPC's."""

from __future__ import annotations

from ipaddress import IPv4Network

from infra.config.model import ATLAS_CIDR

__all__ = ["ATLAS_CIDR", "atlas_cidr_for"]


def atlas_cidr_for(vpc_cidr: IPv4Network) -> IPv4Network:
    """The Atlas project's CIDR; peering needs it disjoint from the VPC's, or routes would be ambiguous."""
    if ATLAS_CIDR.overlaps(vpc_cidr):
        raise ValueError(
            f"contentry:vpcCidr {vpc_cidr} overlaps the Atlas peering range {ATLAS_CIDR}: pick a VPC range in"
            " 10.0.0.0/8 or 172.16.0.0/12"
        )
    return ATLAS_CIDR
