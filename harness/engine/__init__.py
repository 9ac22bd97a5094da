"""The container engine: the only package that imports `docker` (see docker_engine.py)."""
