"""The bodies of the shop's read-only pages: home, catalog, product, cart, deals, status."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from urllib.parse import urlencode

from .catalog import CATEGORIES
from .catalog import Product
from .catalog import money
from .layout import alert


def home() -> str:
    return """<h1>Welcome to Smooth Shop</h1>
<p>Homeware, garden tools and office supplies, shipped in two days.</p>
<ul>
<li><a href="/products">Browse the catalog</a></li>
<li><a href="/deals">Today's deals</a></li>
<li><a href="/login">Log in</a> (demo user: demo@shop.test / smooth-demo)</li>
</ul>"""


def _filters(params: Mapping[str, str]) -> str:
    def selected(category: str) -> str:
        return " selected" if params.get("category") == category else ""

    options = "".join(
        f'<option value="{c}"{selected(c)}>{c}</option>' for c in ("", *CATEGORIES)
    ).replace('<option value="">', '<option value="">All categories', 1)
    checked = " checked" if params.get("in_stock") else ""
    view = (
        f'<input type="hidden" name="view" value="{escape(params["view"])}">'
        if (params.get("view"))
        else ""
    )
    return f"""<form class="filters" method="get" action="/products" role="search">
<label for="q">Search<input id="q" name="q" type="search" value="{escape(params.get("q", ""))}"
 placeholder="mug, lamp..."></label>
<label for="category">Category<select id="category" name="category">{options}</select></label>
<label for="min_price">Min price<input id="min_price" name="min_price" type="number" min="0"
 step="0.01" value="{escape(params.get("min_price", ""))}"></label>
<label for="max_price">Max price<input id="max_price" name="max_price" type="number" min="0"
 step="0.01" value="{escape(params.get("max_price", ""))}"></label>
<label for="in_stock" class="inline"><input id="in_stock" name="in_stock" type="checkbox"
 value="1"{checked}> In stock only</label>
{view}<button type="submit">Apply filters</button>
</form>"""


def _cards(products: list[Product]) -> str:
    cards = "\n".join(
        f"""<article data-testid="product" data-sku="{p.sku}">
<h3 data-testid="name"><a href="/products/{p.sku}">{escape(p.name)}</a></h3>
<span data-testid="category">{p.category}</span> ·
<span data-testid="price">{money(p.price)}</span>
<p data-testid="stock">In stock: {p.stock}</p>
</article>"""
        for p in products
    )
    return f'<section class="cards" data-testid="product-list">{cards}</section>'


def _table(products: list[Product]) -> str:
    rows = "\n".join(
        f'<tr><td>{p.sku}</td><td><a href="/products/{p.sku}">{escape(p.name)}</a></td>'
        f"<td>{p.category}</td><td>{money(p.price)}</td><td>{p.stock}</td></tr>"
        for p in products
    )
    return f"""<table data-testid="product-table">
<thead><tr><th>SKU</th><th>Name</th><th>Category</th><th>Price</th><th>Stock</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""


def product_list(products: list[Product], params: Mapping[str, str], error: str = "") -> str:
    """Render the catalog as cards, or as a table with `?view=table`, under the filters."""
    table_view = params.get("view") == "table"
    other = {k: v for k, v in params.items() if k != "view" and v}
    switch = urlencode(other if table_view else {**other, "view": "table"})
    switch_label = "Card view" if table_view else "Table view"
    count = f"{len(products)} product{'' if len(products) == 1 else 's'}"
    listing = _table(products) if table_view else _cards(products)
    return f"""<h1>Products</h1>
{_filters(params)}
{alert(error)}
<p><span data-testid="result-count">{count}</span> ·
<a href="/products?{switch}" data-testid="view-switch">{switch_label}</a></p>
{listing if products else '<p data-testid="empty">No products match these filters.</p>'}"""


def product_detail(product: Product) -> str:
    """One product, described with schema.org microdata, and a form to add it to the cart."""
    availability = "InStock" if product.stock else "OutOfStock"
    button = (
        '<button type="submit">Add to cart</button>'
        if product.stock
        else '<button type="submit" disabled>Sold out</button>'
    )
    return f"""<div itemscope itemtype="https://schema.org/Product" data-testid="product-detail">
<h1 itemprop="name">{escape(product.name)}</h1>
<p>Brand: <span itemprop="brand">{escape(product.brand)}</span></p>
<p>SKU: <span itemprop="sku">{product.sku}</span></p>
<p itemprop="description">{escape(product.description)}</p>
<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
Price: <span itemprop="price">{product.price:,.2f}</span>
<span itemprop="priceCurrency">USD</span>
<link itemprop="availability" href="https://schema.org/{availability}">
<span data-testid="availability">{"In stock" if product.stock else "Sold out"}</span>
</div>
</div>
<form method="post" action="/cart" class="stacked">
<input type="hidden" name="sku" value="{product.sku}">
<label for="quantity">Quantity</label>
<input id="quantity" name="quantity" type="number" min="1" max="{max(product.stock, 1)}" value="1">
{button}
</form>
<p><a href="/products">Back to the catalog</a></p>"""


def cart(lines: list[tuple[Product, int]]) -> str:
    """Render the cart as a table with its total, and the way to checkout."""
    if not lines:
        return '<h1>Your cart</h1><p data-testid="cart-empty">Your cart is empty.</p>'
    rows = "\n".join(
        f"<tr><td>{escape(p.name)}</td><td>{qty}</td><td>{money(p.price * qty)}</td></tr>"
        for p, qty in lines
    )
    total = sum(p.price * qty for p, qty in lines)
    return f"""<h1>Your cart</h1>
<table data-testid="cart">
<thead><tr><th>Product</th><th>Quantity</th><th>Subtotal</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p>Total: <strong data-testid="cart-total">{money(total)}</strong></p>
<p><a href="/checkout" data-testid="checkout-link">Checkout</a></p>"""


# The deals arrive late on purpose: the page renders a placeholder, waits `delay` ms, then fetches
# /api/deals. Tests that read the page at once see "Loading deals…" and must retry.
DEALS_SCRIPT = """
const list = document.getElementById("deals");
setTimeout(async () => {
  const deals = await (await fetch("/api/deals")).json();
  list.innerHTML = "";
  for (const deal of deals) {
    const item = document.createElement("li");
    item.dataset.testid = "deal";
    item.innerHTML = `<span data-testid="name"></span> <span data-testid="price"></span>`;
    item.querySelector('[data-testid="name"]').textContent = deal.name;
    item.querySelector('[data-testid="price"]').textContent = deal.price;
    list.append(item);
  }
  list.setAttribute("aria-busy", "false");
  document.body.dataset.deals = "ready";
}, DELAY_MS);
"""


def deals(delay_ms: int) -> str:
    """Today's deals, loaded by the browser `delay_ms` after the page itself."""
    script = DEALS_SCRIPT.replace("DELAY_MS", str(delay_ms))
    return f"""<h1>Today's deals</h1>
<ul id="deals" data-testid="deals" aria-busy="true"><li>Loading deals…</li></ul>
<script>{script}</script>"""


def status(failing: bool) -> str:
    """Render the status page; with the failure flag, the error banner of a broken page."""
    if failing:
        return "<h1>Status</h1>" + alert(
            "Something went wrong: the inventory service is unavailable (error 500).",
            testid="error-banner",
        )
    return '<h1>Status</h1><p data-testid="status">All systems operational.</p>'


def account(name: str, email: str, since: str) -> str:
    """Render the signed-in user's account page."""
    return f"""<h1>Your account</h1>
<p data-testid="welcome">Signed in as {escape(name)}</p>
<dl>
<dt>Name</dt><dd>{escape(name)}</dd>
<dt>Email</dt><dd>{escape(email)}</dd>
<dt>Member since</dt><dd>{since}</dd>
</dl>
<form method="post" action="/logout"><button type="submit">Log out</button></form>"""
