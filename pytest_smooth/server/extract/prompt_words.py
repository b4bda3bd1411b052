"""The vocabulary of the ``extract`` prompt forms, which ``prompt.py`` parses with.

Field hints, number words, filler words, superlatives and comparison operators.
"""

from __future__ import annotations

import re
from typing import Final

PRICE_FIELDS: Final = ("price", "cost", "amount", "total", "fee", "sale_price")
RATING_FIELDS: Final = ("rating", "rated", "score", "stars", "review_score")
DATE_FIELDS: Final = ("date", "published", "created", "updated", "time", "year", "posted")
POPULAR_FIELDS: Final = ("popularity", "views", "downloads", "sales", "likes", "votes")
STOCK_FIELDS: Final = ("in_stock", "instock", "stock", "availability", "available", "status")

NUMBERS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
ORDINALS: Final = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "1st": 1, "2nd": 2, "3rd": 3,
    "4th": 4, "5th": 5,
}  # fmt: skip
COUNT = r"(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
FILLER: Final = frozenset(
    "the a an all any every each of from on in at this that these those page list show get"
    " find extract read return give me please which what are is be and to for visible shown"
    " listed displayed items item entries entry rows row records record results result one"
    " ones only just".split()
)
SUPERLATIVES: Final = (
    (r"cheapest|least expensive|lowest[- ]priced", PRICE_FIELDS, False),
    (r"most expensive|priciest|dearest|highest[- ]priced", PRICE_FIELDS, True),
    (r"(?:highest|best|top)[- ]rated", RATING_FIELDS, True),
    (r"(?:lowest|worst)[- ]rated", RATING_FIELDS, False),
    (r"newest|latest|most recent", DATE_FIELDS, True),
    (r"oldest|earliest|least recent", DATE_FIELDS, False),
    (r"most popular", POPULAR_FIELDS, True),
    (r"least popular", POPULAR_FIELDS, False),
)
WORD_OPERATORS: Final = (
    ("is not", "ne"), ("isn't", "ne"), ("does not contain", "excludes"),
    ("contains", "contains"), ("includes", "contains"), ("is at most", "le"),
    ("is at least", "ge"), ("at most", "le"), ("at least", "ge"), ("is less than", "lt"),
    ("less than", "lt"), ("is more than", "gt"), ("more than", "gt"), ("greater than", "gt"),
    ("is under", "lt"), ("under", "lt"), ("is below", "lt"), ("below", "lt"),
    ("is over", "gt"), ("over", "gt"), ("is above", "gt"), ("above", "gt"),
    ("equals", "eq"), ("is", "eq"),
)  # fmt: skip
SYMBOL_OPERATORS: Final = (
    ("!=", "ne"), ("<=", "le"), (">=", "ge"), ("==", "eq"), ("=", "eq"), ("<", "lt"), (">", "gt"),
)  # fmt: skip
OPERATORS: Final = WORD_OPERATORS + SYMBOL_OPERATORS
WORD_OP_RE = "|".join(re.escape(word) for word, _ in WORD_OPERATORS)
SYMBOL_OP_RE = "|".join(re.escape(word) for word, _ in SYMBOL_OPERATORS)
PRICE_OPERATORS: Final = {
    "under": "lt", "below": "lt", "less than": "lt", "cheaper than": "lt", "at most": "le",
    "over": "gt", "above": "gt", "more than": "gt", "more expensive than": "gt",
    "at least": "ge",
}  # fmt: skip
OP_NAMES: Final = dict(OPERATORS)
