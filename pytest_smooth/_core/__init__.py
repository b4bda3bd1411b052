"""What the client twins and the local backend share: no I/O, no pytest.

Wire models, constants, exceptions, redaction, payloads, the event cursor, the retry policy,
and the sans-IO flows that ``pytest_smooth.client`` drives (docs/architecture.md).
"""
