"""``expect(...)``: retrying assertions over ``evaluate_js`` and ``extract`` results (no pytest).

Import ``expect`` from ``pytest_smooth`` (docs/architecture.md).
"""
