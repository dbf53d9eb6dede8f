"""simkit: capacity, cost and DR planning for Kubernetes platforms."""
