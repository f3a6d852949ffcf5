"""Pure functions of the compute tier: AMI, image references, boot document, IAM, health and scaling numbers."""
