"""server/extract: see docs/architecture.md."""
