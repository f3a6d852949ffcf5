"""The edge: web application firewalls in front of the load balancer and CloudFront."""
