"""Sphinx configuration of the corpus's documentation project (built by regen_corpus.py)."""

from __future__ import annotations

project = "Acme Shipping"
author = "Acme"
copyright = "2024, Acme"
release = "2.4.0"
extensions: list[str] = []
html_theme = "alabaster"
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
