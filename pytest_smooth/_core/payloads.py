"""Pure builders of what the client sends and shows.

Action inputs, secrets, schemas, uploads, event ids, tool signatures, and the shortened values
of the event log.
"""

from __future__ import annotations

import inspect
import os
import secrets as _secrets
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import IO
from typing import Any
from typing import TypeVar

import pydantic
from typing_extensions import TypeVar as TypeVarWithDefault

from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothInputError
from pytest_smooth._core.models import SecretValue
from pytest_smooth._core.redact import Redactor

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets). --full-trace
# shows them.
__tracebackhide__ = True

__all__ = [
    "MAX_LOGGED_CHARS",
    "FileInput",
    "M",
    "convert",
    "extract_input",
    "file_parts",
    "new_event_id",
    "run_task_input",
    "schema_of",
    "session_options",
    "shorten",
    "tool_signature",
]

M = TypeVar("M", bound=pydantic.BaseModel)
# What extract/run_task return: an instance of the model class given, else the JSON value (Any).
ModelT = TypeVarWithDefault("ModelT", bound=pydantic.BaseModel, default=Any)
FileInput = str | os.PathLike[str] | bytes | IO[bytes]

# Strings in the event log are cut to this many characters.
MAX_LOGGED_CHARS = 200
_ALPHABET = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def new_event_id() -> str:
    """Return a 21-character nanoid-like event id (as the SDK sends) from ``secrets``.

    One ``token_bytes`` call, each byte's low 6 bits picking from the 64-letter alphabet
    (uniform: 256 is a multiple of 64); ~20x cheaper than 21 ``secrets.choice`` calls.
    """
    return "".join([_ALPHABET[b & 63] for b in _secrets.token_bytes(21)])


def shorten(value: Any, limit: int = MAX_LOGGED_CHARS) -> Any:
    """Cut long strings inside a JSON-like value, saying how long they were."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:limit]}... ({len(value)} chars)"
    if isinstance(value, dict):
        return {k: shorten(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [shorten(v, limit) for v in value]
    return value


def tool_signature(name: str, func: Callable[..., Any]) -> dict[str, Any]:
    """Describe a Python callable as a Smooth custom tool (first docstring line, its params)."""
    doc = inspect.getdoc(func) or name
    params = inspect.signature(func).parameters
    return {
        "name": name,
        "description": doc.splitlines()[0],
        "inputs": {p: {"type": "any", "description": p} for p in params},
        "output": "any",
    }


def schema_of(model: Any) -> dict[str, Any] | None:
    """Return the JSON schema of a dict, a pydantic model class, or None."""
    if model is None:
        return None
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return model.model_json_schema()
    if isinstance(model, Mapping):
        return dict(model)
    raise SmoothInputError(f"expected a JSON schema dict or a pydantic model class, got {model!r}")


def extract_input(schema: Any, prompt: str | None) -> tuple[dict[str, Any], Any]:
    """Return the extract input and the model class to validate the output with (or None)."""
    model = schema if isinstance(schema, type) else None
    return {"schema": schema_of(schema), "prompt": prompt}, model


def run_task_input(
    redactor: Redactor,
    task: str,
    max_steps: int,
    response_model: Any,
    url: str | None,
    secrets: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Return the run_task input; each secret's value is registered with ``redactor`` first."""
    if not 2 <= max_steps <= 128:
        raise SmoothInputError(f"max_steps must be between 2 and 128, got {max_steps}")
    wire_secrets: dict[str, Any] | None = None
    if secrets is not None:
        wire_secrets = {}
        for name, secret in secrets.items():
            raw = {"value": secret} if isinstance(secret, str) else secret
            try:
                value = SecretValue.model_validate(raw)
            except pydantic.ValidationError:
                raise SmoothInputError(
                    f"secret {name!r} must be a string or {{'value': ..., 'allowed_urls': [...]}}"
                ) from None
            # Registered before anything is sent or logged.
            redactor.add(value.value)
            wire_secrets[name] = value.model_dump()
    return {
        "task": task,
        "max_steps": max_steps,
        "response_model": schema_of(response_model),
        "url": url,
        "metadata": dict(metadata) if metadata is not None else None,
        "secrets": wire_secrets,
    }


def convert(redactor: Redactor, action: str, output: Any, model: Any) -> Any:
    """Validate an action's output into ``model`` (a pydantic class), or return it as is."""
    if model is None:
        return output
    try:
        return model.model_validate(output)
    except pydantic.ValidationError as err:
        text = redactor.redact(f"{action} output does not match {model.__name__}: {err}")
        raise SmoothActionError(text, action=action, output=output) from None


def file_parts(
    file: FileInput, name: str | None, purpose: str | None
) -> tuple[dict[str, tuple[str, Any]], dict[str, str]]:
    """Return the multipart ``files`` and ``data`` of POST /file (field ``file``)."""
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        content: Any = path.read_bytes()
        name = name or path.name
    elif isinstance(file, bytes):
        content = file
    else:
        content = file.read()
        name = name or os.path.basename(str(getattr(file, "name", "")))
    if not name:
        raise SmoothInputError("an upload needs name=... for bytes or an unnamed stream")
    data = {"file_purpose": purpose} if purpose is not None else {}
    return {"file": (os.path.basename(name), content)}, data


def session_options(
    options: dict[str, Any], tools: Mapping[str, Callable[..., Any]] | None
) -> dict[str, Any]:
    """Return session options with a signature added for each tool not already declared."""
    if not tools:
        return options
    declared = list(options.get("custom_tools") or [])
    names = {t["name"] if isinstance(t, Mapping) else t.name for t in declared}
    declared += [tool_signature(n, f) for n, f in tools.items() if n not in names]
    return {**options, "custom_tools": declared}
