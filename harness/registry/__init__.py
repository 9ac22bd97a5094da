"""Image registries: references, the registry HTTP API (manifests, indexes, configs), ECR tokens."""
