"""Hardware: the ml.* instance catalogue, host inventory (psutil, NVML), emulation plans, and
resource-use sampling of running containers (cgroups, NVML)."""
