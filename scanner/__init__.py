"""mpscan: inventory and compliance scanner for the Amazon SageMaker model registry."""

__version__ = "0.1.0"
