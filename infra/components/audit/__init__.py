"""Audit: the account's CloudTrail trail."""
