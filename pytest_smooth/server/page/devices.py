"""Device presets for browser contexts, and the ``allowed_urls`` glob matcher.

Globs match on scheme + host (+ port) + path; query and fragment are ignored. Two syntaxes:

- current (2026-03): ``**`` matches anything, ``*`` anything but ``/`` and ``.``-free host
  labels are literal; ``https://**.example.com/**`` matches ``example.com`` and any subdomain.
- older: a pattern without ``**`` treats every ``*`` as "anything" (``https://*example.com/*``).

A pattern without a scheme matches http and https; one without a port matches any port.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pytest_smooth._core.types import Device

# The Chrome version in user agents is filled in from the launched browser.
_DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{version} Safari/537.36"
)
_MOBILE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{version} Mobile Safari/537.36"
)

DEVICE_PRESETS: dict[str, dict[str, Any]] = {
    "desktop": {
        "viewport": {"width": 1280, "height": 800},
        "user_agent": _DESKTOP_UA,
        "device_scale_factor": 1,
        "is_mobile": False,
        "has_touch": False,
    },
    "desktop-lg": {
        "viewport": {"width": 1920, "height": 1080},
        "user_agent": _DESKTOP_UA,
        "device_scale_factor": 1,
        "is_mobile": False,
        "has_touch": False,
    },
    "mobile": {
        "viewport": {"width": 390, "height": 844},
        "user_agent": _MOBILE_UA,
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

# URL schemes that never leave the browser; allowed_urls does not apply to them.
INTERNAL_SCHEMES = frozenset({"about", "data", "blob", "chrome", "devtools", "javascript"})


def context_options(device: Device | str, browser_version: str) -> dict[str, Any]:
    """Keyword arguments for ``browser.new_context`` for a device (unknown -> desktop)."""
    preset = dict(DEVICE_PRESETS.get(device, DEVICE_PRESETS["desktop"]))
    # Headless Chromium says "HeadlessChrome" in its UA, which some sites refuse.
    version = browser_version.split("/")[-1] or "120.0.0.0"
    preset["user_agent"] = str(preset["user_agent"]).format(version=version)
    return preset


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    pattern = pattern.strip()
    if "://" in pattern:
        scheme, rest = pattern.split("://", 1)
    else:
        scheme, rest = "", pattern
    host, slash, path = rest.partition("/")
    new_style = "**" in pattern

    def glob(part: str, star: str, *, is_host: bool = False) -> str:
        out = []
        i = 0
        while i < len(part):
            if is_host and i == 0 and part.startswith("**."):
                out.append(r"(?:.*\.)?")  # "**.example.com" also matches "example.com"
                i += 3
            elif part.startswith("**", i):
                out.append(".*")
                i += 2
            elif part[i] == "*":
                out.append(star)
                i += 1
            elif part[i] == "?" and new_style:
                out.append(".")
                i += 1
            else:
                out.append(re.escape(part[i]))
                i += 1
        return "".join(out)

    star_host = r"[^/]*" if new_style else ".*"
    star_path = r"[^/]*" if new_style else ".*"
    scheme_re = glob(scheme, r"[^:/]*") if scheme else r"https?"
    host_re = glob(host, star_host, is_host=True)
    if ":" not in host:
        host_re += r"(?::\d+)?"  # no port in the pattern: any port
    if slash:
        path_re = "/" + glob(path, star_path)
        if path in ("**", "*"):
            path_re = "(?:/.*)?"
    else:
        path_re = "(?:/.*)?"  # "https://example.com" covers the whole site
    return re.compile(f"{scheme_re}://{host_re}{path_re}", re.IGNORECASE)


def url_allowed(url: str, patterns: list[str] | None) -> bool:
    """Whether ``url`` may be loaded under ``allowed_urls`` (None or empty: everything)."""
    if not patterns:
        return True
    parts = urlsplit(url)
    if parts.scheme.lower() in INTERNAL_SCHEMES:
        return True
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    target = f"{parts.scheme.lower()}://{host.lower()}{port}{parts.path or '/'}"
    return any(_compile(p).fullmatch(target) for p in patterns)
