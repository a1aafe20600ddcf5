"""The clinic domain: models and their services, typed errors and events (Qt-free)."""
