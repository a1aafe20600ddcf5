"""The app's one text order, as a sort key: case- and accent-insensitive.

``fold_text("Émile") == "emile"``: the text is decomposed (NFKD), its combining marks
(accents) dropped and the rest case-folded ("Straße" -> "strasse"); keys compare by code
point. The in-memory grid sorts by it, the database stores it beside the names people
sort by (``name_key``), and the SQL grid computes it for other text columns, so the same
names sort the same way in memory, on SQLite and on PostgreSQL. Changing it means a
migration that recomputes the stored keys.

A package of its own, importing nothing but the standard library, because every layer
needs the same function: the grid (widgets/), the database's stored keys and the domain.
widgets/ may not import the database and the database may not import widgets/.
"""

from __future__ import annotations

import unicodedata


def fold_text(text: str) -> str:
    """A case- and accent-insensitive sort key: "Émile" sorts with "emile", before "f"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
