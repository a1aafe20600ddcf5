"""Where each area adds its subcommands to the ``purplecross`` group.

Keeping the list here (instead of in ``cli.py``) lets areas land independently.
"""

from __future__ import annotations

import importlib

import click

# module path -> attribute holding a click command or group
EXTENSIONS: tuple[tuple[str, str], ...] = (
    ("gallery.cli", "gallery"),
    ("purplecross_desktop.demo_command", "demo_command"),
    ("purplecross_desktop.jobs_command", "worker"),
    ("purplecross_desktop.jobs_command", "queues"),
    ("purplecross_desktop.jobs_command", "jobs"),
    ("purplecross_desktop.cache_command", "cache_group"),
    ("purplecross_desktop.events_command", "events_command"),
    ("purplecross_desktop.health_command", "health_command"),
    ("purplecross_desktop.webhooks_command", "webhooks_group"),
    ("purplecross_desktop.workflows_command", "workflows_group"),
)


def register(group: click.Group) -> None:
    """Add every extension command to ``group``."""
    for module_name, attribute in EXTENSIONS:
        module = importlib.import_module(module_name)
        group.add_command(getattr(module, attribute))
