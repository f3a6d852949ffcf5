"""Tier B: the EKS cluster, its nodes and add-ons, the load balancer controller, the autoscaler and the app."""
