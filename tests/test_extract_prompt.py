"""The extract prompt forms, parsed and applied without a browser (server/extract/prompt.py)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_smooth.server.extract.prompt import Pick
from pytest_smooth.server.extract.prompt import parse_prompt
from pytest_smooth.server.extract.schema import normalise_schema
from pytest_smooth.server.extract.shaping import finish
from pytest_smooth.server.extract.shaping import pick_field
from pytest_smooth.server.extract.shaping import read_target
from pytest_smooth.server.extract.shaping import shape_items

PRODUCTS: list[dict[str, Any]] = [
    {"name": "Lamp", "price": 30.0, "category": "Home", "rating": 4.1, "stock": "In stock"},
    {"name": "Chair", "price": 10.0, "category": "Home", "rating": 3.2, "stock": "Sold out"},
    {"name": "Atlas", "price": 45.0, "category": "Books", "rating": 4.8, "stock": "In stock"},
    {"name": "Novel", "price": 12.5, "category": "Books", "rating": None, "stock": "3 left"},
]
PRODUCT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
}


def names(prompt: str) -> list[str]:
    items, notes = shape_items(list(PRODUCTS), parse_prompt(prompt))
    assert notes == []
    return [item["name"] for item in items]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("the cheapest product", ["Chair"]),
        ("the cheapest products", ["Chair", "Novel", "Lamp", "Atlas"]),
        ("the 2 cheapest products", ["Chair", "Novel"]),
        ("the most expensive", ["Atlas"]),
        ("the highest rated product", ["Atlas"]),
        ("the lowest rated", ["Chair"]),
        ("the first 3", ["Lamp", "Chair", "Atlas"]),
        ("the first two products", ["Lamp", "Chair"]),
        ("the last", ["Novel"]),
        ("the last 2 products", ["Atlas", "Novel"]),
        ("the second product", ["Chair"]),
        ("the top 2 by rating", ["Atlas", "Lamp"]),
        ("products sorted by price descending", ["Atlas", "Lamp", "Novel", "Chair"]),
        ("the product with the highest price", ["Atlas"]),
        ("where category is Books", ["Atlas", "Novel"]),
        ("products whose category is not books", ["Lamp", "Chair"]),
        ("where name contains ai", ["Chair"]),
        ("where price < 20", ["Chair", "Novel"]),
        ("where price is at least 30", ["Lamp", "Atlas"]),
        ("products under $20", ["Chair", "Novel"]),
        ("products over 40", ["Atlas"]),
        ("in stock", ["Lamp", "Atlas", "Novel"]),
        ("the products that are out of stock", ["Chair"]),
        ("the cheapest product in stock", ["Novel"]),
        ("where category is Books and price under 20", ["Novel"]),
        ("the cheapest book where category is Books", ["Novel"]),
    ],
)
def test_each_prompt_form_picks_the_right_items(prompt: str, expected: list[str]) -> None:
    plan = parse_prompt(prompt)
    assert plan.unread is None, plan
    assert names(prompt) == expected


@pytest.mark.parametrize(
    ("prompt", "section"),
    [
        ("in the Reviews section", "Reviews"),
        ("the newest review in the Reviews section", "Reviews"),
        ("under the Shipping heading", "Shipping"),
        ('in the "Customer reviews" section', "Customer reviews"),
        ("in section Specs", "Specs"),
    ],
)
def test_a_section_is_scoped_by_its_heading(prompt: str, section: str) -> None:
    plan = parse_prompt(prompt)
    assert plan.section == section
    assert plan.unread is None


@pytest.mark.parametrize(
    ("prompt", "tries"),
    [
        ("#closed", [("#closed", True, True)]),
        ("section.plan:nth-of-type(2)", [("section.plan:nth-of-type(2)", True, True)]),
        ("rows of `table.open`", [("table.open", True, True)]),
        ("List the invoices in #archived.", [("#archived", False, True)]),
        ("the cheapest product in #catalog", [("#catalog", False, True)]),
    ],
)
def test_css_selectors_still_scope_the_read(prompt: str, tries: list[Any]) -> None:
    plan = parse_prompt(prompt)
    assert plan.tries == tries
    assert plan.unread is None


@pytest.mark.parametrize(
    "prompt",
    ["the chosen plan", "the best product for my mum", "products by the same brand as the lamp"],
)
def test_words_outside_the_forms_are_kept_as_unread(prompt: str) -> None:
    assert parse_prompt(prompt).unread


@pytest.mark.parametrize("prompt", [None, "", "  ", "the product", "price", "all items"])
def test_a_prompt_that_only_names_the_items_changes_nothing(prompt: str | None) -> None:
    plan = parse_prompt(prompt)
    assert not plan.reshapes
    assert plan.unread is None
    assert plan.tries == []


def test_a_field_the_items_lack_is_an_approximation_not_a_silent_skip() -> None:
    items, notes = shape_items(list(PRODUCTS), parse_prompt("where colour is red"))
    assert items == PRODUCTS
    assert notes[0]["what"] == "prompt filter 'where colour is red'"
    assert "no field 'colour'" in notes[0]["detail"]
    assert "name, price" in notes[0]["detail"]
    _, notes = shape_items(list(PRODUCTS), parse_prompt("the newest"))
    assert notes[0]["what"] == "prompt order 'newest'"


def test_missing_values_sort_last_in_both_directions() -> None:
    for prompt in ("the highest rated products", "the lowest rated products"):
        assert names(prompt)[-1] == "Novel"


def test_the_issue_case_an_object_schema_is_read_as_a_list_and_the_cheapest_kept() -> None:
    node = normalise_schema(PRODUCT)
    plan = parse_prompt("the cheapest product")
    target = read_target(node, plan)
    assert target.single
    assert target.node == {"kind": "array", "items": node, "nullable": False}
    read = [{"name": "Lamp", "price": 30.0}, {"name": "Chair", "price": 10.0},
            {"name": "Desk", "price": 120.0}]  # fmt: skip
    assert finish(target, read, plan) == ({"name": "Chair", "price": 10.0}, [])
    assert finish(target, [], plan) == (None, [])


def test_an_object_holding_one_list_has_that_list_shaped() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"},
              "products": {"type": "array", "items": PRODUCT}}}  # fmt: skip
    plan = parse_prompt("the first product")
    target = read_target(normalise_schema(schema), plan)
    assert target.path == "products"
    value = {"title": "Shop", "products": PRODUCTS[:2]}
    assert finish(target, value, plan) == ({"title": "Shop", "products": PRODUCTS[:1]}, [])


def test_a_prompt_without_forms_reads_the_schema_as_it_is() -> None:
    node = normalise_schema(PRODUCT)
    assert read_target(node, parse_prompt("#main")).node is node


def test_a_list_of_strings_is_ordered_by_its_values() -> None:
    items, notes = shape_items(["b", "c", "a"], parse_prompt("sorted by name"))
    assert (items, notes) == (["a", "b", "c"], [])
    assert parse_prompt("the last 2").pick == Pick("last", 2)


@pytest.mark.parametrize(
    ("keys", "wanted", "found"),
    [
        (["name", "unitPrice"], ("price",), "unitPrice"),
        (["name", "Price"], ("price", "cost"), "Price"),
        (["avg_rating"], ("rating",), "avg_rating"),
        (["name"], ("price",), None),
        (["reviews"], ("review",), "reviews"),
    ],
)
def test_fields_are_matched_loosely(keys: list[str], wanted: tuple[str, ...], found: str) -> None:
    assert pick_field(keys, wanted) == found
