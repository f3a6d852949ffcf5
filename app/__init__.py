"""Contentry's API service: the FastAPI app that the infrastructure in `infra/` deploys."""

__version__ = "0.1.0"
