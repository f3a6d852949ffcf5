"""The public way in, the same for every tier: the Application Load Balancer with its listeners, certificate,
access logs and target group, the security group pieces from the internet to the app, and the builder that
makes them from the stack's config (tiers A and C put instances behind it, tier B pods)."""
