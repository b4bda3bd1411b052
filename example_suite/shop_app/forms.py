"""The shop's two forms, login and checkout: how they render and how the server validates them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from .layout import alert
from .layout import field_error

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRIES = ("France", "Germany", "Japan", "United States")
# Postal codes are checked on the server only, so a test can see a server-side error that the
# browser's own checks let through.
POSTAL_CODES = {
    "France": re.compile(r"^\d{5}$"),
    "Germany": re.compile(r"^\d{5}$"),
    "Japan": re.compile(r"^\d{3}-\d{4}$"),
    "United States": re.compile(r"^\d{5}(-\d{4})?$"),
}
COUPONS = {"SMOOTH10": 0.10}
EXPIRED_COUPONS = {"SPRING24"}


@dataclass
class FormState:
    """What the reader typed, the message per field, and a message for the whole form."""

    values: Mapping[str, str]
    errors: dict[str, str]
    summary: str = ""

    def value(self, name: str) -> str:
        return escape(self.values.get(name, ""))

    def error(self, name: str) -> str:
        return field_error(name, self.errors.get(name, ""))


def _required(values: Mapping[str, str], messages: Mapping[str, str]) -> dict[str, str]:
    errors = {name: text for name, text in messages.items() if not values.get(name, "").strip()}
    email = values.get("email", "").strip()
    if email and not EMAIL.match(email):
        errors["email"] = "Enter a valid email address"
    return errors


LOGIN_MESSAGES = {"email": "Enter your email address", "password": "Enter your password"}


def validate_login(values: Mapping[str, str]) -> FormState:
    """Check what the browser checks: both fields present, an email that looks like one."""
    return FormState(values, _required(values, LOGIN_MESSAGES))


def login_form(state: FormState | None = None, next_url: str = "/account") -> str:
    state = state or FormState({}, {})
    return f"""<h1>Log in</h1>
<p>Demo user: <code>demo@shop.test</code> / <code>smooth-demo</code></p>
{alert(state.summary)}
<form method="post" action="/login" class="stacked" data-validate novalidate
 data-testid="login-form">
<input type="hidden" name="next" value="{escape(next_url)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" value="{state.value("email")}"
 data-required="{LOGIN_MESSAGES["email"]}" aria-describedby="error-email">
{state.error("email")}
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"
 data-required="{LOGIN_MESSAGES["password"]}" aria-describedby="error-password">
{state.error("password")}
<button type="submit">Sign in</button>
</form>"""


CHECKOUT_MESSAGES = {
    "name": "Enter your full name",
    "email": "Enter your email address",
    "address": "Enter a street address",
    "country": "Choose a country",
    "postal_code": "Enter a postal code",
    "terms": "Accept the terms to place the order",
}


def validate_checkout(values: Mapping[str, str], cart_is_empty: bool) -> FormState:
    """Check what the browser checks, and what only the server knows: postal codes, coupons."""
    errors = _required(values, CHECKOUT_MESSAGES)
    country = values.get("country", "")
    postal_code = values.get("postal_code", "").strip()
    if country and country not in COUNTRIES:
        errors["country"] = "Choose a country"
    elif postal_code and country in POSTAL_CODES and not POSTAL_CODES[country].match(postal_code):
        errors["postal_code"] = f"{postal_code} is not a valid postal code in {country}"
    coupon = values.get("coupon", "").strip().upper()
    if coupon in EXPIRED_COUPONS:
        errors["coupon"] = f"Coupon {coupon} has expired"
    elif coupon and coupon not in COUPONS:
        errors["coupon"] = f"Unknown coupon {coupon}"
    summary = "Your cart is empty." if cart_is_empty else ""
    if errors and not summary:
        summary = "Please correct the errors below."
    return FormState(values, errors, summary)


def checkout_form(state: FormState | None = None) -> str:
    state = state or FormState({}, {})

    def text(name: str, label: str, kind: str = "text", extra: str = "") -> str:
        message = CHECKOUT_MESSAGES.get(name)
        required = f' data-required="{message}"' if message else ""
        return f"""<label for="{name}">{label}</label>
<input id="{name}" name="{name}" type="{kind}" value="{state.value(name)}"{required}{extra}
 aria-describedby="error-{name}">
{state.error(name)}"""

    chosen = state.values.get("country", "")
    options = "".join(
        f"<option{' selected' if c == chosen else ''}>{c}</option>" for c in COUNTRIES
    )
    terms = " checked" if state.values.get("terms") else ""
    return f"""<h1>Checkout</h1>
{alert(state.summary)}
<form method="post" action="/checkout" class="stacked" data-validate novalidate
 data-testid="checkout-form">
{text("name", "Full name", extra=' autocomplete="name"')}
{text("email", "Email", "email")}
{text("address", "Street address")}
<label for="country">Country</label>
<select id="country" name="country" data-required="{CHECKOUT_MESSAGES["country"]}"
 aria-describedby="error-country"><option value="">Choose…</option>{options}</select>
{state.error("country")}
{text("postal_code", "Postal code")}
{text("coupon", "Coupon code")}
<label for="terms" class="inline"><input id="terms" name="terms" type="checkbox" value="yes"
 data-required="{CHECKOUT_MESSAGES["terms"]}"{terms}> I accept the terms</label>
{state.error("terms")}
<button type="submit">Place order</button>
</form>"""
