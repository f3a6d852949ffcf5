"""The compute tier on EC2 (tiers A and C): image registry, load balancer, security groups, the app fleet."""
