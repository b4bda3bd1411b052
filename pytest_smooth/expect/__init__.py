"""expect: see docs/architecture.md."""
