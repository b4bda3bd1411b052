"""server/agent: see docs/architecture.md."""
