"""Workflows: documents (trigger, conditions, steps) that run durably on the ``workflows`` queue.

Qt-free. ``document`` reads and checks a workflow, ``conditions`` and ``templating``
evaluate its data safely, ``models``/``store`` keep workflows, versions and runs, and
``engine`` matches events and runs each step as a job (see docs/workflows.md).
"""
