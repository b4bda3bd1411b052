"""server/browser: see docs/architecture.md."""
