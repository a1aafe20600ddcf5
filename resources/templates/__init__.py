"""Email templates (Jinja2): one ``.html.j2`` and one ``.txt.j2`` per template."""
