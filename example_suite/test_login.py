"""Logging in: the form's own checks, the server's answer, and signing in through run_task."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from pytest_smooth import SmoothSession
from pytest_smooth import expect

DEMO_EMAIL = "demo@shop.test"
DEMO_PASSWORD = "smooth-demo"

# Collects the message under each field: {"error-email": "...", "error-password": "..."}.
FIELD_ERRORS = """
const errors = {};
for (const slot of document.querySelectorAll(".field-error")) {
  errors[slot.dataset.testid] = slot.textContent;
}
return errors;
"""


class Account(BaseModel):
    name: str
    email: str
    member_since: str


def log_in(session: SmoothSession, shop_url: str, email: str, password: str) -> Account:
    """Sign in through the login form; the password travels as a secret, never in the task."""
    return session.run_task(
        f"go to {shop_url}/login\n"
        f"type {email} into Email\n"
        "type {{password}} into Password\n"
        "click Sign in\n"
        "wait for Signed in as\n"
        "extract",
        response_model=Account,
        secrets={"password": {"value": password, "allowed_urls": [f"{shop_url}/**"]}},
    )


def test_login_page_has_a_title(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/login")

    expect(smooth_session).js("document.title").to_equal("Log in · Smooth Shop")


def test_the_form_checks_fields_before_sending(
    smooth_session: SmoothSession, shop_url: str
) -> None:
    smooth_session.run_task(f"go to {shop_url}/login\ntype not-an-email into Email\nclick Sign in")

    assert smooth_session.evaluate_js(FIELD_ERRORS) == {
        "error-email": "Enter a valid email address",
        "error-password": "Enter your password",
    }
    # The browser kept the form: nothing was sent to the server.
    assert smooth_session.evaluate_js("location.pathname") == "/login"


def test_the_server_rejects_a_wrong_password(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.run_task(
        f"go to {shop_url}/login\n"
        f"type {DEMO_EMAIL} into Email\n"
        "type not-the-password into Password\n"
        "press Enter\n"
        "wait for Wrong email or password"
    )

    expect(smooth_session).js("document.querySelector('[role=alert]').textContent").to_equal(
        "Wrong email or password."
    )


def test_log_in_with_a_secret_password(smooth_session: SmoothSession, shop_url: str) -> None:
    account = log_in(smooth_session, shop_url, DEMO_EMAIL, DEMO_PASSWORD)

    assert account == Account(name="Demo User", email=DEMO_EMAIL, member_since="2024-03-01")
    # The password was a secret: the session's event log only ever saw the placeholder.
    assert all(DEMO_PASSWORD not in repr(event) for event in smooth_session.events)


def test_two_users_at_once(new_smooth_session: Callable[..., SmoothSession], shop_url: str) -> None:
    demo, ada = new_smooth_session(), new_smooth_session()

    log_in(demo, shop_url, DEMO_EMAIL, DEMO_PASSWORD)
    log_in(ada, shop_url, "ada@shop.test", "analytical-engine")

    # Each session has its own browser context, so its own cookie and its own user.
    for session, name in ((demo, "Demo User"), (ada, "Ada Lovelace")):
        session.goto(f"{shop_url}/account")
        expect(session).js("document.querySelector('[data-testid=welcome]').textContent").to_equal(
            f"Signed in as {name}"
        )
