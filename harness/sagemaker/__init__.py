"""The SageMaker container contract as pure code: /opt/ml layout, transform rules, metrics."""
