"""The shop as a Starlette application: routes, the demo users, sessions, cart and orders."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from html import escape
from urllib.parse import parse_qs
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route

from . import catalog
from . import forms
from . import views
from .layout import page

SESSION_COOKIE = "shop_session"
CART_COOKIE = "shop_cart"


@dataclass(frozen=True)
class User:
    name: str
    password: str
    member_since: str


# The demo users, documented in example_suite/README.md.
USERS = {
    "demo@shop.test": User("Demo User", "smooth-demo", "2024-03-01"),
    "ada@shop.test": User("Ada Lovelace", "analytical-engine", "2023-12-10"),
}

DEALS = (
    {"sku": "POT-BLU", "name": "Blue Teapot", "price": "$19.00"},
    {"sku": "LMP-DSK", "name": "Desk Lamp", "price": "$36.00"},
    {"sku": "NTB-A5", "name": "A5 Notebook", "price": "$3.99"},
)


@dataclass
class ShopState:
    """Everything the shop remembers between requests (in memory, per app)."""

    sessions: dict[str, str] = field(default_factory=dict)
    orders: dict[int, dict[str, str]] = field(default_factory=dict)


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand so that the app needs no python-multipart: forms here are urlencoded.
    body = (await request.body()).decode()
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}


def _state(request: Request) -> ShopState:
    state: ShopState = request.app.state.shop
    return state


def _email(request: Request) -> str | None:
    return _state(request).sessions.get(request.cookies.get(SESSION_COOKIE, ""))


def _cart(request: Request) -> list[tuple[catalog.Product, int]]:
    lines = []
    for entry in request.cookies.get(CART_COOKIE, "").split(","):
        sku, _, qty = entry.partition(":")
        product = catalog.find(sku)
        if product and qty.isdigit() and int(qty) > 0:
            lines.append((product, int(qty)))
    return lines


def _render(request: Request, title: str, body: str, status_code: int = 200) -> HTMLResponse:
    email = _email(request)
    user = USERS[email].name if email else None
    items = sum(qty for _, qty in _cart(request))
    return HTMLResponse(page(title, body, user=user, cart_items=items), status_code=status_code)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def home(request: Request) -> Response:
    return _render(request, "Home", views.home())


async def login(request: Request) -> Response:
    next_url = request.query_params.get("next", "/account")
    if request.method == "GET":
        return _render(request, "Log in", forms.login_form(next_url=next_url))
    values = await _form(request)
    state = forms.validate_login(values)
    user = USERS.get(values.get("email", "").strip().lower())
    if not state.errors and (user is None or user.password != values.get("password")):
        state.summary = "Wrong email or password."
    if state.errors or state.summary:
        code = 422 if state.errors else 401
        return _render(request, "Log in", forms.login_form(state, values.get("next", "")), code)
    token = secrets.token_urlsafe(16)
    _state(request).sessions[token] = values["email"].strip().lower()
    # Only local paths: an open redirect would be a bug worth a test of its own.
    target = values.get("next", "")
    response = _redirect(target if target.startswith("/") and "//" not in target else "/account")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax")
    return response


async def logout(request: Request) -> Response:
    _state(request).sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    response = _redirect("/")
    response.delete_cookie(SESSION_COOKIE)
    return response


async def account(request: Request) -> Response:
    email = _email(request)
    if email is None:
        return _redirect("/login?next=" + quote("/account"))
    user = USERS[email]
    return _render(request, "Account", views.account(user.name, email, user.member_since))


def _price(text: str, label: str, errors: list[str]) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        errors.append(f"{label} must be a number")
        return None


async def products(request: Request) -> Response:
    params = dict(request.query_params)
    errors: list[str] = []
    low = _price(params.get("min_price", ""), "Min price", errors)
    high = _price(params.get("max_price", ""), "Max price", errors)
    if low is not None and high is not None and low > high:
        errors.append("Min price must not be more than max price")
    found = catalog.search(
        params.get("q", ""), params.get("category", ""), low, high, bool(params.get("in_stock"))
    )
    code = 400 if errors else 200
    return _render(request, "Products", views.product_list(found, params, "; ".join(errors)), code)


async def product(request: Request) -> Response:
    found = catalog.find(request.path_params["sku"])
    if found is None:
        return _render(request, "Not found", "<h1>Product not found</h1>", 404)
    return _render(request, found.name, views.product_detail(found))


async def cart(request: Request) -> Response:
    lines = _cart(request)
    if request.method == "GET":
        return _render(request, "Cart", views.cart(lines))
    values = await _form(request)
    added = catalog.find(values.get("sku", ""))
    qty = int(values["quantity"]) if values.get("quantity", "").isdigit() else 1
    if added is None or added.stock == 0:
        return _render(request, "Cart", "<h1>This product cannot be added</h1>", 400)
    counts = {p.sku: n for p, n in lines}
    counts[added.sku] = min(counts.get(added.sku, 0) + qty, added.stock)
    response = _redirect("/cart")
    response.set_cookie(CART_COOKIE, ",".join(f"{s}:{n}" for s, n in counts.items()))
    return response


async def checkout(request: Request) -> Response:
    lines = _cart(request)
    if request.method == "GET":
        return _render(request, "Checkout", forms.checkout_form())
    values = await _form(request)
    state = forms.validate_checkout(values, cart_is_empty=not lines)
    if state.summary:
        return _render(request, "Checkout", forms.checkout_form(state), 422)
    discount = forms.COUPONS.get(values.get("coupon", "").strip().upper(), 0.0)
    total = sum(p.price * qty for p, qty in lines) * (1 - discount)
    orders = _state(request).orders
    number = 1001 + len(orders)
    orders[number] = {
        "Status": "Confirmed",
        "Items": str(sum(qty for _, qty in lines)),
        "Total": catalog.money(total),
        "Ship to": f"{values['name']}, {values['postal_code']}, {values['country']}",
    }
    response = _redirect(f"/orders/{number}")
    response.delete_cookie(CART_COOKIE)
    return response


async def order(request: Request) -> Response:
    number = int(request.path_params["number"])
    details = _state(request).orders.get(number)
    if details is None:
        return _render(request, "Not found", "<h1>Order not found</h1>", 404)
    rows = "".join(f"<dt>{key}</dt><dd>{escape(value)}</dd>" for key, value in details.items())
    body = f"<h1>Order #{number} confirmed</h1><p>Order number: {number}</p><dl>{rows}</dl>"
    return _render(request, f"Order {number}", body)


async def deals(request: Request) -> Response:
    delay = request.query_params.get("delay", "1500")
    delay_ms = min(int(delay), 10_000) if delay.isdigit() else 1500
    return _render(request, "Deals", views.deals(delay_ms))


async def deals_api(_request: Request) -> Response:
    return JSONResponse(list(DEALS))


async def products_api(_request: Request) -> Response:
    return JSONResponse([vars(p) for p in catalog.PRODUCTS])


async def broken(request: Request) -> Response:
    # The failure flag: /broken?fail=1 answers 500 with an error banner, for failure-report demos.
    failing = request.query_params.get("fail") == "1"
    return _render(request, "Status", views.status(failing), 500 if failing else 200)


def create_app() -> Starlette:
    """Build a fresh shop with its own sessions and orders."""
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/account", account),
            Route("/products", products),
            Route("/products/{sku}", product),
            Route("/cart", cart, methods=["GET", "POST"]),
            Route("/checkout", checkout, methods=["GET", "POST"]),
            Route("/orders/{number:int}", order),
            Route("/deals", deals),
            Route("/api/deals", deals_api),
            Route("/api/products", products_api),
            Route("/broken", broken),
        ]
    )
    app.state.shop = ShopState()
    return app
