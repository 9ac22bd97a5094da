"""harness: a hardware-aware conformance harness for Amazon SageMaker algorithm containers."""

__version__ = "0.1.0"
