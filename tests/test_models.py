"""Wire models: tolerant of unknown fields, strict on statuses."""

from __future__ import annotations

import pydantic
import pytest

from pytest_smooth._core.models import ActionRecord
from pytest_smooth._core.models import Envelope
from pytest_smooth._core.models import TaskRequest
from pytest_smooth._core.models import TaskResponse


def test_task_response_tolerates_unknown_fields() -> None:
    resp = TaskResponse.model_validate(
        {"id": "t", "status": "running", "brand_new": {"x": 1}, "events": [{"name": "n", "x": 2}]}
    )
    assert resp.model_extra == {"brand_new": {"x": 1}}
    assert resp.events is not None and resp.events[0].payload == {}


def test_status_is_a_literal() -> None:
    with pytest.raises(pydantic.ValidationError):
        TaskResponse.model_validate({"id": "t", "status": "paused"})


def test_envelope_and_task_request_bounds() -> None:
    assert Envelope[list[int]].model_validate({"r": [1]}).r == [1]
    with pytest.raises(pydantic.ValidationError):
        TaskRequest(max_steps=500)


def test_action_record_defaults() -> None:
    record = ActionRecord(action="goto", started_at=0.0)
    assert record.outcome == "pending" and record.credits_used == 0.0
