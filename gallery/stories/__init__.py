"""The story modules: every ``gallery/stories/<widget>.py`` with a ``COMPONENT`` is found.

Adding a widget's stories is adding one module here; nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil

from gallery.story import Component


def load_components(package: str = __name__) -> list[Component]:
    """Every ``COMPONENT`` declared in the modules of ``package``, sorted by name.

    Raises:
        ValueError: two modules declare components with the same name.
    """
    root = importlib.import_module(package)
    components: list[Component] = []
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        component = getattr(module, "COMPONENT", None)
        if isinstance(component, Component):
            components.append(component)
    names = [c.name for c in components]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"components: duplicate names {', '.join(duplicates)}")
    return sorted(components, key=lambda c: c.name)
