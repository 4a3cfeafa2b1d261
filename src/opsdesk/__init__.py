"""OpsDesk: customer support and incident response for cloud managed-service providers."""

__version__ = "0.1.0"
