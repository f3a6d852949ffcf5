"""`python -m infra.cli verify --stack S`: the post-deploy check of a running stack, from its outputs: the URL
answers /api/health, every target is healthy, the fleet runs at least its minimum, and no alarm of the stack
fires. It reads AWS through boto3 with the caller's credentials (read-only calls only)."""
