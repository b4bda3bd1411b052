"""The extract prompt forms and the fidelity warnings on the local backend with real Chromium."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothError
from pytest_smooth import SmoothSession
from pytest_smooth._core.exceptions import SmoothFidelityError
from pytest_smooth._core.exceptions import SmoothFidelityWarning
from pytest_smooth.server.local import LocalServer
from tests.fixtures_server import StaticSite

pytestmark = pytest.mark.browser

SHARED_CASES = Path("/work/shared/extract-cases")
SHOP = """<!doctype html><html><body><h1>Shop</h1>
<div class="products">
  <div class="product"><h2>Lamp</h2><span class="price">$30.00</span>
    <span class="category">Home</span><span class="stock">In stock</span>
    <span class="rating">4.1</span></div>
  <div class="product"><h2>Chair</h2><span class="price">$10.00</span>
    <span class="category">Home</span><span class="stock">Sold out</span>
    <span class="rating">3.5</span></div>
  <div class="product"><h2>Atlas</h2><span class="price">$45.00</span>
    <span class="category">Books</span><span class="stock">In stock</span>
    <span class="rating">4.8</span></div>
  <div class="product"><h2>Novel</h2><span class="price">$12.50</span>
    <span class="category">Books</span><span class="stock">2 left</span>
    <span class="rating">4.0</span></div>
</div>
<section><h2>Reviews</h2>
  <ul><li class="review"><b class="name">Ann</b> <span class="rating">5</span></li>
      <li class="review"><b class="name">Bob</b> <span class="rating">2</span></li></ul>
</section>
<h2>Questions</h2><ul><li class="review"><b class="name">Cy</b> <span class="rating">1</span></li>
  <li class="review"><b class="name">Di</b> <span class="rating">3</span></li></ul>
</body></html>"""


class Product(BaseModel):
    name: str
    price: float


class Item(BaseModel):
    name: str
    price: float
    category: str | None = None
    stock: str | None = None
    rating: float | None = None


class Review(BaseModel):
    name: str
    rating: int


ITEMS: dict[str, Any] = {"type": "array", "items": Item.model_json_schema()}


@pytest.fixture(scope="module")
def shop(static_site: StaticSite, local_server: LocalServer) -> Iterator[SmoothSession]:
    url = static_site.page("fidelity-shop.html", SHOP)
    with (
        SmoothClient(local_server.api_key, local_server.base_url) as client,
        client.session() as session,
    ):
        session.goto(url)
        yield session


def test_the_cheapest_product_is_the_chair_not_the_first_one(shop: SmoothSession) -> None:
    """The issue's case: three products, the cheapest is not the first."""
    product = shop.extract(Product, prompt="the cheapest product")
    assert product == Product(name="Chair", price=10.0)
    assert shop.events[-1].approximations == []


@pytest.mark.parametrize(
    ("prompt", "names"),
    [
        ("the most expensive product", ["Atlas"]),
        ("the first 3", ["Lamp", "Chair", "Atlas"]),
        ("the last", ["Novel"]),
        ("the highest rated product", ["Atlas"]),
        ("the 2 cheapest products", ["Chair", "Novel"]),
        ("where category is Books", ["Atlas", "Novel"]),
        ("products in stock", ["Lamp", "Atlas", "Novel"]),
        ("the cheapest product in stock", ["Novel"]),
        ("products under $20 sorted by price descending", ["Novel", "Chair"]),
    ],
)
def test_each_prompt_form_on_a_page(shop: SmoothSession, prompt: str, names: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmoothFidelityWarning)
        items = shop.extract(ITEMS, prompt=prompt)
    assert [item["name"] for item in items] == names


def test_a_section_is_read_by_its_heading(shop: SmoothSession) -> None:
    schema = {"type": "array", "items": Review.model_json_schema()}
    assert shop.extract(schema, prompt="in the Reviews section") == [
        {"name": "Ann", "rating": 5},
        {"name": "Bob", "rating": 2},
    ]
    best = shop.extract(Review, prompt="the highest rated review in the Questions section")
    assert best == Review(name="Di", rating=3)


def test_a_prompt_outside_the_forms_warns_with_the_test_and_the_action(
    shop: SmoothSession,
) -> None:
    shop.label = "tests/test_shop.py::test_gift"
    try:
        with pytest.warns(SmoothFidelityWarning) as caught:
            product = shop.extract(Product, prompt="the best gift for my mum")
    finally:
        shop.label = None
    assert product.name  # the DOM reader's answer all the same
    text = str(caught[0].message)
    assert "tests/test_shop.py::test_gift" in text
    assert "extract" in text and "'the best gift for my mum'" in text
    assert caught[0].filename == __file__  # points at the test's line, not at our internals
    record = shop.events[-1]
    assert record.approximations[0]["what"] == "prompt"
    assert record.outcome == "ok"


def test_strict_mode_raises_with_the_approximate_output(shop: SmoothSession) -> None:
    shop.local_strict = True
    try:
        with pytest.raises(SmoothFidelityError) as info:
            shop.extract(Product, prompt="the best gift for my mum")
    finally:
        shop.local_strict = False
    assert isinstance(info.value, SmoothError)
    assert info.value.action == "extract"
    assert info.value.output is not None
    assert "strict mode" in str(info.value)
    assert shop.events[-1].outcome == "error"


def test_session_options_it_ignores_are_flagged_on_the_first_reply(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("fidelity-plain.html", "<h1>Plain</h1>")
    with (
        SmoothClient(local_server.api_key, local_server.base_url) as client,
        client.session(stealth_mode=True, proxy_server="http://127.0.0.1:9") as session,
    ):
        with pytest.warns(SmoothFidelityWarning, match="stealth_mode") as caught:
            session.goto(url)
        assert "proxy_server" in str(caught[0].message)
        with warnings.catch_warnings():
            warnings.simplefilter("error", SmoothFidelityWarning)
            session.goto(url)  # said once per session
        whats = [a["what"] for a in session.events[0].approximations]
        assert whats == ["session option stealth_mode", "session option proxy_server"]


def _shared(name: str) -> tuple[str, dict[str, Any], Any]:
    case = json.loads((SHARED_CASES / name / "case.json").read_text())
    return (SHARED_CASES / name / "page.html").read_text(), case["schema"], case["expected"]


@pytest.mark.skipif(not SHARED_CASES.is_dir(), reason="the shared extraction cases are absent")
@pytest.mark.parametrize(
    ("name", "prompt", "pick"),
    [
        ("05-testid-cards", "the cheapest product", ("products", [2])),
        ("05-testid-cards", "the 2 most expensive products", ("products", [1, 0])),
        ("02-table-rows", "people sorted by age descending", ("people", [1, 0])),
        ("02-table-rows", "where role is Admiral", ("people", [1])),
    ],
)
def test_prompt_forms_on_the_shared_cases(
    shop: SmoothSession, static_site: StaticSite, name: str, prompt: str, pick: Any
) -> None:
    html, schema, expected = _shared(name)
    shop.goto(static_site.page(f"shared-{name}.html", html))
    key, order = pick
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmoothFidelityWarning)
        got = shop.extract(schema, prompt=prompt)
    assert got == {key: [expected[key][i] for i in order]}
