"""Checkout: the cart, the form's own checks, the server's checks, and a placed order."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from pytest_smooth import SmoothSession
from pytest_smooth import expect

FIELD_ERRORS = """
const errors = {};
for (const slot of document.querySelectorAll(".field-error")) {
  if (slot.textContent) errors[slot.dataset.testid] = slot.textContent;
}
return errors;
"""


class CheckoutForm(BaseModel):
    """The checkout form as a reader sees it: each value under its label."""

    full_name: str
    email: str
    country: str
    postal_code: str
    coupon_code: str
    terms: bool


class Order(BaseModel):
    order_number: int
    status: str
    items: int
    total: float


@pytest.fixture
def cart_with_a_mug(smooth_session: SmoothSession, shop_url: str) -> SmoothSession:
    """Return a session whose cart holds two red mugs."""
    smooth_session.run_task(
        f"go to {shop_url}/products/MUG-RED\n"
        "type 2 into Quantity\n"
        "click Add to cart\n"
        "wait for Your cart"
    )
    expect(smooth_session).js(
        "document.querySelector('[data-testid=cart-total]').textContent"
    ).to_equal("$19.00")
    return smooth_session


def fill_checkout(session: SmoothSession, postal_code: str, coupon: str) -> None:
    """Go from the cart to checkout, fill in the form for Ada in Japan, and place the order."""
    session.run_task(
        "click Checkout\n"
        "wait for Place order\n"
        "type Ada Lovelace into Full name\n"
        "type ada@shop.test into Email\n"
        "type 1-1 Chiyoda into Street address\n"
        "select Japan in Country\n"
        f"type {postal_code} into Postal code\n"
        f"type {coupon} into Coupon code\n"
        "check I accept the terms\n"
        "click Place order"
    )


def test_the_form_lists_every_missing_field(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/checkout")
    smooth_session.run_task("click Place order")

    assert smooth_session.evaluate_js(FIELD_ERRORS) == {
        "error-name": "Enter your full name",
        "error-email": "Enter your email address",
        "error-address": "Enter a street address",
        "error-country": "Choose a country",
        "error-postal_code": "Enter a postal code",
        "error-terms": "Accept the terms to place the order",
    }


def test_the_server_checks_postal_codes_and_coupons(cart_with_a_mug: SmoothSession) -> None:
    fill_checkout(cart_with_a_mug, postal_code="12345", coupon="SPRING24")

    expect(cart_with_a_mug).js("document.querySelector('[role=alert]')?.textContent").to_equal(
        "Please correct the errors below."
    )
    assert cart_with_a_mug.evaluate_js(FIELD_ERRORS) == {
        "error-postal_code": "12345 is not a valid postal code in Japan",
        "error-coupon": "Coupon SPRING24 has expired",
    }
    # The server sent the form back with what was typed, so nothing has to be typed again.
    expect(cart_with_a_mug).extract(CheckoutForm).to_match(
        {
            "full_name": "Ada Lovelace",
            "email": "ada@shop.test",
            "country": "Japan",
            "postal_code": "12345",
            "coupon_code": "SPRING24",
            "terms": True,
        }
    )


def test_place_an_order_with_a_coupon(cart_with_a_mug: SmoothSession) -> None:
    fill_checkout(cart_with_a_mug, postal_code="100-0001", coupon="SMOOTH10")

    order = cart_with_a_mug.run_task("wait for Confirmed\nextract", response_model=Order)

    assert order.status == "Confirmed"
    assert order.items == 2
    assert order.total == pytest.approx(17.10)  # two mugs at $9.50, minus 10 %
    assert order.order_number > 1000
    expect(cart_with_a_mug).js(
        "document.querySelector('[data-testid=nav-cart]').textContent"
    ).to_equal("Cart (0)")
