"""The two drivers of the client flows: ``SmoothClient`` and ``AsyncSmoothClient`` with sessions.

Import them from ``pytest_smooth``; the modules here hold only I/O (docs/architecture.md).
"""
