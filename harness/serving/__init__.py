"""Real-time serving: HTTP to the container (http), readiness and /ping probes (ping), load."""
