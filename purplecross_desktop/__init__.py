"""Purple Cross Desktop: the workstation client of a veterinary clinic."""

__version__ = "0.1.0"
