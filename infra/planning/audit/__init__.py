"""Pure builders of the audit concern: the CloudTrail trail's bucket and key policies, Atlas's audit filter."""
