"""server/protocol: see docs/architecture.md."""
