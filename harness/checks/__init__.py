"""The run-time check catalogue: each check observes (jobs/) and evaluates (pure, here)."""
