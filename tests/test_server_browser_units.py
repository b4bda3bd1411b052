"""Pure parts of the browser executor: evaluate_js forms, JSON results, allowed_urls globs."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_smooth.server.page import jsrun
from pytest_smooth.server.page.devices import url_allowed


@pytest.mark.parametrize(
    ("js", "form"),
    [
        ("document.title", "expression"),
        ("const a = 1; return a + 1", "body"),
        ("(args) => args.x * 2", "function"),
        ("function (args) { return args.x }", "function"),
        ("async (args) => { return 1 }", "function"),
        ("async x => x", "function"),
        ("(() => { return 1 })()", "expression"),
        ("'return'.length", "expression"),
        ("// return\n1", "expression"),
    ],
)
def test_evaluate_js_forms_are_classified(js: str, form: str) -> None:
    assert jsrun.classify(js) == form


def test_results_become_json_or_a_clear_error() -> None:
    assert jsrun.encode_result({"a": [1, float("nan")]}) == {"a": [1, None]}
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(jsrun.ResultError, match="cycle"):
        jsrun.encode_result(cyclic)
    with pytest.raises(jsrun.ResultError, match="over the local backend's limit of 100 bytes"):
        jsrun.encode_result(["x" * 200], limit=100)


@pytest.mark.parametrize(
    ("url", "patterns", "allowed"),
    [
        ("https://example.com/a", ["https://**.example.com/**"], True),
        ("https://a.b.example.com/x?q=1", ["https://**.example.com/**"], True),
        ("https://example.com.evil.io/", ["https://**.example.com/**"], False),
        ("http://example.com/", ["https://**.example.com/**"], False),
        ("https://www.example.com/deep/path", ["https://*example.com/*"], True),
        ("https://other.com/", ["https://*example.com/*"], False),
        ("http://127.0.0.1:8000/allowed/x", ["http://127.0.0.1/allowed/**"], True),
        ("http://127.0.0.1:8000/blocked/x", ["http://127.0.0.1/allowed/**"], False),
        ("about:blank", ["https://example.com/**"], True),
        ("https://anything.io/", None, True),
    ],
)
def test_allowed_urls_globs(url: str, patterns: list[str] | None, allowed: bool) -> None:
    assert url_allowed(url, patterns) is allowed
