"""``python -m benchmarks [name ...]`` runs every benchmark module (or the named ones).

Each module in this package with a ``main()`` is a benchmark; it prints its own figures
and the baseline they are compared against, measured in the same run.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")
    )
    failed = 0
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"\n===== benchmarks/{name}.py =====", flush=True)
        result = module.main()
        failed += 1 if result else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
