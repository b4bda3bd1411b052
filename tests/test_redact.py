"""Redactor: secrets never reach text, nested values or log records."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import pytest

from pytest_smooth._core.redact import LOGGER_NAME
from pytest_smooth._core.redact import Redactor
from pytest_smooth._core.redact import configure_from_env
from pytest_smooth._core.redact import get_logger
from pytest_smooth._core.redact import redact_all


def test_redact_text_longest_first_and_short_secrets_ignored() -> None:
    redactor = Redactor(["hunter22", "hunter22-extended", "abc", ""])
    text = "a hunter22-extended and hunter22 and abc"
    assert redactor.redact(text) == "a *** and *** and abc"


def test_redact_json_and_url_encoded_forms() -> None:
    secret = 'p@ss "word"/1'
    redactor = Redactor([secret])
    assert secret not in redactor.redact(json.dumps({"v": secret}))
    assert "p%40ss" not in redactor.redact("https://x/?q=p%40ss%20%22word%22%2F1")
    assert redactor.redact(json.dumps({"v": secret})) == '{"v": "***"}'


def test_redact_nested_values_keeps_shape() -> None:
    redactor = Redactor(["s3cret"])
    value = {"a": ["x s3cret", ("s3cret",)], "s3cret": 1, "n": 2, "b": None}
    assert redactor.redact_value(value) == {"a": ["x ***", ("***",)], "***": 1, "n": 2, "b": None}


def test_empty_redactor_is_identity_and_repr_hides_secrets() -> None:
    assert Redactor().redact("anything") == "anything"
    redactor = Redactor(["topsecret"])
    assert "topsecret" not in repr(redactor)


def test_add_is_thread_safe() -> None:
    redactor = Redactor()
    secrets = [f"secret-{i:04d}" for i in range(200)]

    def add(chunk: list[str]) -> None:
        for s in chunk:
            redactor.add(s)

    threads = [threading.Thread(target=add, args=(secrets[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert redactor.redact(" ".join(secrets)) == " ".join(["***"] * 200)


def test_logging_filter_redacts_records_args_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redactor = Redactor(["key-123456"])
    logger = get_logger(f"{LOGGER_NAME}.test")
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        logger.debug("sending %s", "key-123456")
        try:
            raise ValueError("bad key-123456")
        except ValueError:
            logger.exception("failed")
    assert len(caplog.records) == 2
    assert "key-123456" not in caplog.text
    assert "***" in caplog.records[0].getMessage()
    assert redact_all("key-123456") == "***"
    del redactor


def test_smooth_log_level_env_logs_redacted_records_to_stderr() -> None:
    code = (
        "import logging\n"
        "from pytest_smooth import SmoothClient\n"
        "from pytest_smooth._core.redact import get_logger\n"
        "client = SmoothClient(api_key='sk-env-secret-123', base_url='http://127.0.0.1:9/api/')\n"
        "get_logger('pytest_smooth.client').debug('calling with sk-env-secret-123')\n"
    )
    env = {**os.environ, "SMOOTH_LOG_LEVEL": "debug"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "DEBUG pytest_smooth.client: calling with ***" in done.stderr
    assert "sk-env-secret-123" not in done.stderr


def test_bad_smooth_log_level_is_named_and_does_not_break_imports() -> None:
    env = {**os.environ, "SMOOTH_LOG_LEVEL": "chatty"}
    done = subprocess.run(
        [sys.executable, "-c", "import pytest_smooth.client.sync_client"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "SMOOTH_LOG_LEVEL='chatty' is not a log level" in done.stderr


def test_configure_from_env_without_the_variable_adds_nothing() -> None:
    assert configure_from_env({}) is None
