"""Request bodies as the protocol takes them: JSON, and a small multipart/form-data reader.

Pure (no Starlette), so the HTTP app and ``pytest_smooth.testing`` parse bodies alike. The
multipart reader keeps the ``server`` extra free of python-multipart: the API has only two
upload routes (``/file`` and ``/extension``) with at most one file and one text field each.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pytest_smooth.server.protocol.resources import Upload

_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


class BodyError(Exception):
    """A body the server refuses: carries the HTTP status and the detail for the client."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def parse_json(raw: bytes) -> Any:
    """Decode a JSON body (an empty body is None); 400 with the parser's message otherwise."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(400, f"request body is not valid JSON: {exc}") from exc


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    main, _, rest = value.partition(";")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(";" + rest)
    }
    return main.strip().lower(), params


def parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Parse a multipart/form-data body into ``{field: str | Upload}``."""
    kind, params = _header_params(content_type)
    boundary = params.get("boundary")
    if kind != "multipart/form-data" or not boundary:
        raise BodyError(400, "uploads must be multipart/form-data with a 'file' field")
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, Any] = {}
    for part in raw.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise BodyError(400, "malformed multipart body: a part has no header block")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        _, disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if not name:
            raise BodyError(400, "malformed multipart body: a part has no field name")
        if "filename" in disposition:
            filename = disposition["filename"].replace("\\", "/").rsplit("/", 1)[-1]
            ctype = headers.get("content-type", "application/octet-stream")
            fields[name] = Upload(filename, content, ctype)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields
