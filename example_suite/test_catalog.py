"""Browsing the catalog: cards, the table view, search, filters and a product's own page.

These tests only read, so they share one browser session for the whole module
(`smooth_module_session`): each starts with `goto`, which is all the isolation they need.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from pytest_smooth import SmoothSession
from pytest_smooth import expect

RESULT_COUNT = "document.querySelector('[data-testid=result-count]').textContent"


class ProductCard(BaseModel):
    name: str
    category: str
    price: float
    stock: int


class Catalog(BaseModel):
    products: list[ProductCard]


class ProductRow(BaseModel):
    sku: str
    name: str
    price: float


class ProductTable(BaseModel):
    rows: list[ProductRow]


class Offer(BaseModel):
    price: float
    priceCurrency: str


class Product(BaseModel):
    name: str
    brand: str
    sku: str
    offers: Offer


@pytest.fixture
def catalog(smooth_module_session: SmoothSession, shop_url: str) -> SmoothSession:
    """Return the module's session, on the catalog's first page."""
    smooth_module_session.goto(f"{shop_url}/products")
    return smooth_module_session


def test_every_product_is_a_card(catalog: SmoothSession) -> None:
    page = catalog.extract(Catalog)

    assert len(page.products) == 8
    assert page.products[0] == ProductCard(name="Red Mug", category="Kitchen", price=9.5, stock=12)
    # "$1,299.00" on the page, a float in the model.
    assert max(card.price for card in page.products) == 1299.0


def test_evaluate_js_three_ways(catalog: SmoothSession) -> None:
    # An expression.
    assert catalog.evaluate_js("document.querySelectorAll('[data-testid=product]').length") == 8
    # A function body that returns a value.
    cheapest = catalog.evaluate_js(
        """
        const prices = [...document.querySelectorAll('[data-testid=price]')]
          .map((price) => Number(price.textContent.replace(/[$,]/g, "")));
        return Math.min(...prices);
        """
    )
    assert cheapest == 4.99
    # A function, called with JSON arguments.
    in_kitchen = catalog.evaluate_js(
        "({ selector, text }) => [...document.querySelectorAll(selector)]"
        ".filter((element) => element.textContent === text).length",
        args={"selector": "[data-testid=category]", "text": "Kitchen"},
    )
    assert in_kitchen == 4


def test_search_by_name(smooth_module_session: SmoothSession, shop_url: str) -> None:
    smooth_module_session.goto(f"{shop_url}/products?q=lamp")

    expect(smooth_module_session).js(RESULT_COUNT).to_equal("1 product")
    # cross_check reads the same fact from the DOM too: where an LLM extracts (on the cloud),
    # it catches an answer that the page does not actually say.
    expect(smooth_module_session).extract(Catalog).cross_check(
        js="document.querySelector('[data-testid=product] [data-testid=name]').textContent",
        field="products.0.name",
    ).to_match({"products": [{"name": "Desk Lamp", "price": 45.0}]})


def test_filter_by_category_and_price(catalog: SmoothSession) -> None:
    catalog.run_task(
        "select Garden in Category\ntype 20 into Max price\nclick Apply filters\nwait for 1 product"
    )

    expect(catalog).extract(Catalog).to_match({"products": [{"name": "Pruning Shears"}]})


def test_in_stock_only(catalog: SmoothSession) -> None:
    catalog.run_task("check In stock only\nclick Apply filters\nwait for 7 products")

    names = catalog.evaluate_js(
        "[...document.querySelectorAll('[data-testid=product] [data-testid=name]')]"
        ".map((name) => name.textContent)"
    )
    assert "Pruning Shears" not in names


def test_a_bad_price_range_is_explained(
    smooth_module_session: SmoothSession, shop_url: str
) -> None:
    smooth_module_session.goto(f"{shop_url}/products?min_price=50&max_price=10")

    expect(smooth_module_session).js("document.querySelector('[role=alert]').textContent").to_equal(
        "Min price must not be more than max price"
    )


def test_table_view(smooth_module_session: SmoothSession, shop_url: str) -> None:
    smooth_module_session.goto(f"{shop_url}/products?view=table&category=Office")

    expect(smooth_module_session).extract(ProductTable).to_match(
        {
            "rows": [
                {"sku": "LMP-DSK", "name": "Desk Lamp", "price": 45.0},
                {"sku": "NTB-A5", "name": "A5 Notebook", "price": 4.99},
            ]
        }
    )


def test_product_page_microdata(smooth_module_session: SmoothSession, shop_url: str) -> None:
    smooth_module_session.goto(f"{shop_url}/products/ESP-PRO")

    product = smooth_module_session.extract(Product)

    assert product == Product(
        name="Espresso Machine",
        brand="Brewlab",
        sku="ESP-PRO",
        offers=Offer(price=1299.0, priceCurrency="USD"),
    )
    # Soft expectations: every one is checked, and all the misses are reported together.
    expect.soft(smooth_module_session).js("document.title").to_equal(
        "Espresso Machine · Smooth Shop"
    )
    expect.soft(smooth_module_session).js(
        "document.querySelector('[data-testid=availability]').textContent"
    ).to_equal("In stock")
    expect.soft(smooth_module_session).js(
        "document.querySelector('form button').disabled"
    ).to_equal(False)
