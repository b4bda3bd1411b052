"""Session options: validation and the merge order for one session.

``smooth_session_args`` fixture < ``--smooth-device``/``--smooth-timeout`` < the closest
``@pytest.mark.smooth(...)`` < the ``pytest_smooth_session_args`` hook. The result is the
keyword arguments of ``SmoothClient.session``, plus metadata tags (run id, node id, worker).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.constants import DEVICES
from pytest_smooth.plugin.settings import SmoothSettings

MARKER: Final = "smooth"
MARKER_LINE: Final = (
    "smooth(*, device=None, allowed_urls=None, profile_id=None, timeout=None, ...): "
    "options of the Smooth sessions this test opens (keyword-only; the closest marker wins; "
    "see the README, 'Configuration levels')"
)
RUN_ID_INPUT: Final = "smooth_run_id"
RUN_ID_KEY: Final = pytest.StashKey[str]()


class SessionOptionError(ValueError):
    """A session option with an unknown name or a bad value; the message says which."""


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def _is_timeout(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value > 0


def _is_tools(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and callable(v) for k, v in value.items()
    )


def _is_metadata(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in value.items()
    )


# name -> (check, what a valid value is)
VALIDATORS: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "device": (lambda v: v in DEVICES, "one of " + ", ".join(DEVICES)),
    "allowed_urls": (_is_str_list, "a list of URL patterns (str)"),
    "profile_id": (_is_str, "a profile id (str)"),
    "profile_read_only": (_is_bool, "True or False"),
    "enable_recording": (_is_bool, "True or False"),
    "metadata": (_is_metadata, "a dict of str to str/int/float/bool"),
    "files": (_is_str_list, "a list of file ids (str)"),
    "extensions": (_is_str_list, "a list of extension ids (str)"),
    "custom_tools": (lambda v: isinstance(v, (list, tuple)), "a list of tools"),
    "timeout": (_is_timeout, "a number of seconds > 0, or None"),
    "start_timeout": (_is_timeout, "a number of seconds > 0, or None (the default, 120)"),
    "tools": (_is_tools, "a dict of tool name (str) to the client-side function"),
    "proxy_server": (_is_str, "a proxy URL (str)"),
    "proxy_username": (_is_str, "a str"),
    "proxy_password": (_is_str, "a str"),
    "stealth_mode": (_is_bool, "True or False"),
    "use_adblock": (_is_bool, "True or False"),
    "use_captcha_solver": (_is_bool, "True or False"),
    "show_cursor": (_is_bool, "True or False"),
}


def validate(options: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check names and values; raise SessionOptionError naming the source, the option and why."""
    for name, value in options.items():
        if name not in VALIDATORS:
            raise SessionOptionError(
                f"{source}: unknown session option {name!r}; valid: {', '.join(sorted(VALIDATORS))}"
            )
        check, valid = VALIDATORS[name]
        if not check(value):
            raise SessionOptionError(f"{source}: {name}={value!r} is not valid; expected {valid}")
    return dict(options)


def marker_options(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """Merge the ``smooth`` markers on ``node`` and its parents; the closest one wins."""
    merged: dict[str, Any] = {}
    # iter_markers yields closest first, so apply them farthest first.
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            raise SessionOptionError(
                f"@pytest.mark.smooth takes keyword arguments only, got {mark.args!r}"
            )
        merged.update(validate(mark.kwargs, "@pytest.mark.smooth"))
    return merged


def run_id(config: pytest.Config) -> str:
    """Return this run's id; xdist workers get the controller's (plugin.pytest_configure_node)."""
    workerinput = getattr(config, "workerinput", None)
    if isinstance(workerinput, dict) and workerinput.get(RUN_ID_INPUT):
        return str(workerinput[RUN_ID_INPUT])
    return config.stash.setdefault(RUN_ID_KEY, uuid.uuid4().hex[:12])


def worker_id(config: pytest.Config) -> str:
    """Return the xdist worker id (``gw0``...), or ``master`` when not under xdist."""
    workerinput = getattr(config, "workerinput", None)
    if isinstance(workerinput, dict):
        return str(workerinput.get("workerid", "master"))
    return "master"


def session_args(
    request: pytest.FixtureRequest,
    settings: SmoothSettings,
    base: Mapping[str, Any],
    *,
    item: pytest.Item | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge the ``client.session`` keyword arguments of one session (SessionOptionError).

    ``extra`` are the arguments a test passed to the ``new_smooth_session`` factory; they sit
    above the marker and below the hook.
    """
    args = validate(base, "smooth_session_args fixture")
    if settings.device is not None:
        args["device"] = settings.device
    if settings.timeout is not None:
        args["timeout"] = settings.timeout
    args.update(marker_options(item if item is not None else request.node))
    if extra:
        args.update(validate(extra, "new_smooth_session()"))
    config = request.config
    for result in config.hook.pytest_smooth_session_args(config=config, item=item, args=args):
        if result:
            args.update(result)
    args = validate(args, "pytest_smooth_session_args hook")
    nodeid = item.nodeid if item is not None else request.node.nodeid
    tags = {
        "pytest_run_id": run_id(config),
        "pytest_nodeid": nodeid,
        "pytest_worker": worker_id(config),
    }
    args["metadata"] = {**tags, **dict(args.get("metadata") or {})}
    return args
