"""server/http: see docs/architecture.md."""
