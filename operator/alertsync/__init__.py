"""AlertSync: keeps alerting platforms in line with AlertIntegration resources."""

__all__ = ["__version__"]

__version__ = "0.1.0"
