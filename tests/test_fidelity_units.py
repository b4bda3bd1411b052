"""Fidelity without a browser: the reply field, the warning and the error, session options, 404."""

from __future__ import annotations

import warnings

import pytest

from pytest_smooth import SmoothError
from pytest_smooth import SmoothFidelityError
from pytest_smooth import SmoothFidelityWarning
from pytest_smooth._core.event_cursor import PollState
from pytest_smooth._core.fidelity import fidelity_message
from pytest_smooth._core.fidelity import parse_approximations
from pytest_smooth._core.fidelity import report_approximations
from pytest_smooth._core.fidelity import strict_from_env
from pytest_smooth._core.models import Certificate
from pytest_smooth._core.models import TaskRequest
from pytest_smooth._core.models import TaskResponse
from pytest_smooth.server.browser.fidelity import FidelityNotes
from pytest_smooth.server.browser.fidelity import reply_output
from pytest_smooth.server.browser.fidelity import session_approximations
from pytest_smooth.server.protocol.store import Store
from tests.server_fakes import Clock
from tests.server_fakes import RecordingExecutor
from tests.server_fakes import call

NOTE = {"what": "prompt", "detail": "'the best gift': not a form the DOM reader reads"}


def test_the_warning_is_a_smooth_error_and_a_user_warning() -> None:
    assert issubclass(SmoothFidelityWarning, SmoothError)
    assert issubclass(SmoothFidelityWarning, UserWarning)
    assert issubclass(SmoothFidelityError, SmoothError)


def test_the_warning_names_the_test_the_action_and_what() -> None:
    with pytest.warns(SmoothFidelityWarning) as caught:
        report_approximations("tests/test_a.py::test_b", "extract", [NOTE], strict=False)
    text = str(caught[0].message)
    assert text.startswith("tests/test_a.py::test_b: extract on the local backend")
    assert "prompt: 'the best gift'" in text
    assert caught[0].filename == __file__


def test_strict_raises_with_the_output_and_nothing_when_there_is_nothing() -> None:
    with pytest.raises(SmoothFidelityError) as info:
        report_approximations("s", "goto", [NOTE], strict=True, output={"a": 1})
    assert (info.value.action, info.value.output) == ("goto", {"a": 1})
    assert info.value.approximations == [NOTE]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report_approximations("s", "goto", [], strict=True)


@pytest.mark.parametrize(
    ("value", "strict"), [("1", True), ("true", True), ("ON", True), ("0", False), ("", False)]
)
def test_strict_from_the_environment(value: str, strict: bool) -> None:
    assert strict_from_env({"SMOOTH_LOCAL_STRICT": value}) is strict


def test_the_field_is_read_tolerantly() -> None:
    raw = [NOTE, "bare text", {"what": ""}, {"detail": "no what"}, 3, {"what": "w", "detail": 4}]
    assert parse_approximations(raw) == [
        NOTE,
        {"what": "bare text", "detail": ""},
        {"what": "w", "detail": ""},
    ]
    assert parse_approximations({"what": "not a list"}) == []
    assert fidelity_message("s", "a", [{"what": "w", "detail": ""}]).count("(w)") == 1


def test_a_reply_with_approximations_is_matched_and_keeps_them() -> None:
    state = PollState()
    state.expect("e1", "goto")
    state.expect("e2", "extract")
    goto = {"credits_used": 0, "duration": 0.1, "approximations": [NOTE]}  # no "output" key
    extract = {"output": {"x": 1}, "credits_used": 0, "duration": 0.1, "approximations": [NOTE]}
    events = [
        {"id": "e1", "name": "browser_action", "payload": {"code": 200, "output": goto}},
        {"id": "e2", "name": "browser_action", "payload": {"code": 200, "output": extract}},
    ]
    state.feed(TaskResponse.model_validate({"id": "t", "status": "running", "events": events}))
    first, second = state.take("e1"), state.take("e2")
    assert first is not None and second is not None
    assert (first.output, first.approximations) == (None, (NOTE,))
    assert (second.output, second.approximations) == ({"x": 1}, (NOTE,))


def test_session_options_the_local_backend_ignores() -> None:
    assert session_approximations(TaskRequest()) == []  # defaults are not flagged
    request = TaskRequest(
        stealth_mode=True,
        proxy_server="http://proxy:8080",
        certificates=[Certificate(file="AAAA")],
        additional_tools={"screenshot": None},
        experimental_features={"x": 1},
        show_cursor=True,
        extensions=["ext_1"],
        agent="other",
    )
    whats = [
        note["what"].removeprefix("session option ") for note in session_approximations(request)
    ]
    assert whats == [
        "stealth_mode",
        "proxy_server",
        "certificates",
        "additional_tools",
        "experimental_features",
        "show_cursor",
        "agent",
    ]


def test_session_notes_go_out_once_and_action_notes_per_action() -> None:
    notes = FidelityNotes([NOTE])
    notes.start()
    notes.action.append({"what": "a", "detail": "b"})
    assert notes.take() == [NOTE, {"what": "a", "detail": "b"}]
    notes.start()
    assert notes.take() == []
    assert reply_output("goto", None, 0.5, []) == {"credits_used": 0, "duration": 0.5}
    assert reply_output("extract", 1, 0.5, [NOTE]) == {
        "output": 1,
        "credits_used": 0,
        "duration": 0.5,
        "approximations": [NOTE],
    }


def test_an_unknown_profile_is_a_404_not_an_empty_profile() -> None:
    executor = RecordingExecutor()
    store = Store(executor, root_url="http://127.0.0.1:9", clock=Clock())
    status, body = call(store, "POST", "/task", {"task": None, "profile_id": "nobody"})
    assert status == 404
    assert "Profile not found: 'nobody'" in body["detail"]
    assert call(store, "GET", "/profile")[1]["r"] == []  # nothing was made on the way
    assert call(store, "POST", "/profile", {"id": "nobody"})[0] == 200
    status, body = call(store, "POST", "/task", {"task": None, "profile_id": "nobody"})
    assert status == 200, body
