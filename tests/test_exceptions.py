"""The exception tree and the status -> class mapping."""

from __future__ import annotations

import pytest

from pytest_smooth._core import exceptions as exc


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.BadRequestError),
        (401, exc.AuthenticationError),
        (403, exc.PermissionDeniedError),
        (404, exc.NotFoundError),
        (409, exc.ConflictError),
        (413, exc.RequestTooLargeError),
        (422, exc.UnprocessableEntityError),
        (429, exc.RateLimitError),
        (500, exc.InternalServerError),
        (503, exc.InternalServerError),
        (418, exc.SmoothStatusError),
    ],
)
def test_status_error_for(status: int, cls: type[exc.SmoothStatusError]) -> None:
    assert exc.status_error_for(status) is cls
    assert issubclass(cls, exc.SmoothAPIError)


def test_everything_is_a_smooth_error() -> None:
    for name in exc.__all__:
        obj = getattr(exc, name)
        if isinstance(obj, type):
            assert issubclass(obj, exc.SmoothError), name
    assert issubclass(exc.SmoothTimeoutError, exc.SmoothConnectionError)
    assert issubclass(exc.SmoothActionServerError, exc.SmoothActionError)


def test_attributes() -> None:
    err = exc.RateLimitError("slow down", status_code=429, detail="d", retry_after=3.0)
    assert (err.status_code, err.detail, err.retry_after, str(err)) == (429, "d", 3.0, "slow down")
    action = exc.SmoothActionError("boom", action="goto", output="boom")
    assert (action.action, action.code, action.output) == ("goto", 400, "boom")
    failed = exc.TaskFailedError("t failed", task_id="t", status="failed", output=None)
    assert (failed.task_id, failed.status) == ("t", "failed")


def test_bad_arguments_are_smooth_input_errors_and_value_errors() -> None:
    from pytest_smooth import SmoothClient
    from pytest_smooth import SmoothError
    from pytest_smooth import SmoothInputError

    with pytest.raises(SmoothInputError, match="max_retries") as info:
        SmoothClient(api_key="k-1234", base_url="http://127.0.0.1:9/api/", max_retries=-1)
    assert isinstance(info.value, SmoothError)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TypeError)
