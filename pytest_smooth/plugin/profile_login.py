"""Log in once: the profile of a name, decided once per run across processes, reused by runs.

The first process to take the name's lock (in the run's shared folder) decides: it reuses the
profile an earlier run recorded in the pytest cache while it is younger than ``max_age``, still
exists and passes ``check``; otherwise it creates a profile and runs ``login`` in a session on
it. It writes the outcome (the id, or the login's error) for the run; the processes waiting on
the lock read it, so a failed login is reported with one message and never retried in the run.
"""

from __future__ import annotations

import datetime
import logging
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.profile_run import Timeout
from pytest_smooth.plugin.profile_run import describe_failure
from pytest_smooth.plugin.profile_run import run_in_session
from pytest_smooth.plugin.profile_store import RunOutcomes
from pytest_smooth.plugin.profile_store import cached_login
from pytest_smooth.plugin.profile_store import profiles_dir
from pytest_smooth.plugin.profile_store import remember_login
from pytest_smooth.plugin.redaction import get_registry
from pytest_smooth.plugin.run_folder import locked

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import SmoothClient

log = logging.getLogger("pytest_smooth.profiles")

LOGIN_WAIT: Final = 600.0  # seconds a process waits for another one logging in
SAVE_WAIT: Final = 15.0  # seconds for the local backend to write the profile after the login
SAVE_POLL: Final = 0.1
MIN_SECRET_CHARS: Final = 12  # cookie and storage values this long are kept out of outputs
MaxAge = float | int | datetime.timedelta | None
Login = Callable[[Any], Any]


def max_age_seconds(max_age: MaxAge) -> float | None:
    """Return ``max_age`` in seconds (None: no limit); a negative one is a ValueError."""
    if max_age is None:
        return None
    seconds = max_age.total_seconds() if isinstance(max_age, datetime.timedelta) else max_age
    if not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"max_age must be seconds >= 0 or a timedelta, not {max_age!r}")
    return float(seconds)


class ProfileLogins:
    """The ``smooth_profile`` callable of one process: ``logins(name, login, ...)`` -> an id."""

    def __init__(
        self,
        config: pytest.Config,
        client: SmoothClient,
        connection: tuple[str | None, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.client = client
        self.connection = connection
        self.clock = clock
        settings = get_settings(config)
        self.local = settings.backend == "local"
        # An unset --smooth-timeout means "the client's default", which None would disable.
        self.timeout: Timeout = NOT_GIVEN if settings.timeout is None else settings.timeout
        self._known: dict[str, dict[str, str]] = {}  # this process's outcomes per name

    def __call__(
        self,
        name: str,
        login: Login,
        *,
        max_age: MaxAge = None,
        check: Login | None = None,
        session_args: dict[str, Any] | None = None,
    ) -> str:
        """Return the id of a profile in which ``login(session)`` ran (see the module doc)."""
        __tracebackhide__ = True
        outcome = self._known.get(name)
        if outcome is None:
            seconds = max_age_seconds(max_age)
            outcome = self._outcome(name, login, seconds, check, dict(session_args or {}))
            if "id" in outcome:
                self._adopt(outcome["id"])
            self._known[name] = outcome
        if "error" in outcome:
            pytest.fail(outcome["error"], pytrace=False)
        return outcome["id"]

    def _outcome(
        self,
        name: str,
        login: Login,
        max_age: float | None,
        check: Login | None,
        session_args: dict[str, Any],
    ) -> dict[str, str]:
        outcomes = RunOutcomes(self.config)
        try:
            with locked(outcomes.lock_path(name), timeout=LOGIN_WAIT):
                outcome = outcomes.read(name)
                if outcome is None:
                    outcome = self._decide(name, login, max_age, check, session_args)
                    outcomes.write(name, **outcome)
        except TimeoutError:
            return {
                "error": f"smooth_profile({name!r}): another process of this run was still"
                f" logging in after {LOGIN_WAIT:g} s"
            }
        return outcome

    def _decide(
        self,
        name: str,
        login: Login,
        max_age: float | None,
        check: Login | None,
        session_args: dict[str, Any],
    ) -> dict[str, str]:
        """Reuse the cached profile when still good, else log in (this process holds the lock)."""
        record = cached_login(self.config, name)
        old = record["id"] if record else None
        if record is not None and self._still_good(record, max_age, check, session_args):
            log.info("smooth_profile(%r): reusing profile %s", name, old)
            return {"id": str(old)}
        try:
            profile_id = self._log_in(login, session_args)
        except (Exception, pytest.fail.Exception) as err:
            message = describe_failure(name, login, err)
            log.debug("smooth_profile(%r) login failed:\n%s", name, traceback.format_exc())
            return {"error": get_registry(self.config).scrubber().redact(message)}
        remember_login(self.config, name, profile_id, self.clock())
        if old and old != profile_id:
            self._delete(old)
        return {"id": profile_id}

    def _still_good(
        self,
        record: dict[str, Any],
        max_age: float | None,
        check: Login | None,
        session_args: dict[str, Any],
    ) -> bool:
        logged_in_at = record.get("logged_in_at")
        if max_age is not None and (
            not isinstance(logged_in_at, (int, float)) or self.clock() - logged_in_at >= max_age
        ):
            return False
        if not self._exists(str(record["id"])):
            return False
        if check is None:
            return True
        args = {**session_args, "profile_id": record["id"], "profile_read_only": True}
        try:
            return self._run(check, args) is not False
        except (Exception, pytest.fail.Exception) as err:  # a failing check means "log in again"
            log.info("smooth_profile check %s failed: %s", getattr(check, "__name__", check), err)
            return False

    def _run(self, function: Login, options: dict[str, Any]) -> Any:
        return run_in_session(self.client, self.connection, function, options, self.timeout)

    def _exists(self, profile_id: str) -> bool:
        return any(p.id == profile_id for p in self.client.list_profiles())

    def _log_in(self, login: Login, session_args: dict[str, Any]) -> str:
        profile_id = self.client.create_profile().id
        try:
            args = {**session_args, "profile_id": profile_id, "profile_read_only": False}
            self._run(login, args)
            if self.local:
                self._wait_saved(profile_id)
        except BaseException:
            self._delete(profile_id)
            raise
        return profile_id

    def _wait_saved(self, profile_id: str) -> None:
        """Wait (bounded) until the local backend wrote the login's cookies to the profile."""
        deadline = time.monotonic() + SAVE_WAIT
        while time.monotonic() < deadline:
            found = [p for p in self.client.list_profiles() if p.id == profile_id]
            if found and found[0].last_saved_at is not None:
                return
            time.sleep(SAVE_POLL)
        log.warning("the local backend did not save profile %s within %g s", profile_id, SAVE_WAIT)

    def _delete(self, profile_id: str) -> None:
        try:
            self.client.delete_profile(profile_id)
        except Exception as err:  # best effort: a stale profile only takes space
            log.info("could not delete profile %s: %s", profile_id, err)

    def _adopt(self, profile_id: str) -> None:
        """Make this process's backend know the profile; keep its cookies out of every output."""
        if not self.local:
            return
        self._exists(profile_id)  # the local backend reads it from the shared folder now
        from pytest_smooth.server.profile_folder import ProfileFolder

        profile = ProfileFolder(profiles_dir(self.config)).load(profile_id)
        state = (profile.storage_state if profile else None) or {}
        values = [str(c.get("value", "")) for c in state.get("cookies") or []]
        for origin in state.get("origins") or []:
            values += [str(item.get("value", "")) for item in origin.get("localStorage") or []]
        # Only token-like values: a short one ("1", "en-US") would blank ordinary report text.
        get_registry(self.config).add(*[v for v in values if len(v) >= MIN_SECRET_CHARS])
