"""Request bodies for the Starlette app: size limits, read before parsing.

Parsing itself (JSON, multipart) is pure and lives in ``protocol/bodies.py``.
"""

from __future__ import annotations

from starlette.requests import Request

from pytest_smooth.server.protocol.bodies import BodyError

MIB = 1024 * 1024
DEFAULT_MAX_JSON_BYTES = 5 * MIB
DEFAULT_MAX_UPLOAD_BYTES = 50 * MIB


def _limit_text(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the whole body, refusing with 413 as soon as it passes ``limit`` bytes."""
    too_large = BodyError(413, f"request body too large: the limit here is {_limit_text(limit)}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
