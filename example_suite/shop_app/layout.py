"""The page shell shared by every page: head, styles, navigation and the shop's small script."""

from __future__ import annotations

from html import escape

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; }
header { display: flex; align-items: center; gap: 1rem; padding: .75rem 1.5rem;
         background: #1d2330; color: #fff; }
header a { color: #fff; }
header .brand { font-weight: 700; margin-right: auto; text-decoration: none; }
#menu-toggle { display: none; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 1rem; }
.cards article { border: 1px solid #d5d9e2; border-radius: .5rem; padding: .75rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d5d9e2; }
form.stacked label { display: block; margin-top: .75rem; font-weight: 600; }
form.stacked label.inline { font-weight: 400; }
.field-error { color: #b3261e; margin: .25rem 0 0; min-height: 1.5em; }
[role=alert] { background: #fdecea; color: #b3261e; padding: .75rem; border-radius: .5rem; }
.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin-bottom: 1rem; }
.filters label { display: flex; flex-direction: column; font-size: .9rem; }
@media (max-width: 600px) {
  #menu-toggle { display: inline-block; }
  header nav { display: none; }
  header nav.open { display: flex; flex-direction: column; }
  .cards { grid-template-columns: 1fr; }
}
"""

# Client-side validation for forms marked data-validate: each checked field names its message in
# data-required, and its error goes to the element data-testid="error-<field name>". The server
# runs the same checks again, so a browser without JavaScript gets the same messages.
SCRIPT = """
const EMAIL = /^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$/;
function problem(field) {
  const value = field.type === "checkbox" ? field.checked : field.value.trim();
  if (!value) return field.dataset.required;
  if (field.type === "email" && !EMAIL.test(value)) return "Enter a valid email address";
  return "";
}
for (const form of document.querySelectorAll("form[data-validate]")) {
  form.addEventListener("submit", (event) => {
    let firstInvalid = null;
    for (const field of form.querySelectorAll("[data-required]")) {
      const message = problem(field);
      form.querySelector(`[data-testid="error-${field.name}"]`).textContent = message;
      field.setAttribute("aria-invalid", message ? "true" : "false");
      firstInvalid = firstInvalid || (message ? field : null);
    }
    if (firstInvalid) {
      event.preventDefault();
      firstInvalid.focus();
    }
  });
}
const toggle = document.getElementById("menu-toggle");
const nav = document.querySelector("header nav");
toggle.addEventListener("click", () => nav.classList.toggle("open"));
"""


def page(title: str, body: str, *, user: str | None = None, cart_items: int = 0) -> str:
    """Render a whole HTML document: the shell around `body`, titled `<title> · Smooth Shop`."""
    account = (
        f'<a href="/account" data-testid="nav-account">{escape(user)}</a>'
        if user
        else '<a href="/login" data-testid="nav-login">Log in</a>'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Smooth Shop</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<a class="brand" href="/">Smooth Shop</a>
<button id="menu-toggle" type="button" aria-label="Menu">☰</button>
<nav aria-label="Main">
<a href="/products">Products</a>
<a href="/deals">Deals</a>
<a href="/cart" data-testid="nav-cart">Cart ({cart_items})</a>
{account}
</nav>
</header>
<main>
{body}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def field_error(name: str, message: str = "") -> str:
    """Render the slot under a form field where its validation message goes."""
    return (
        f'<p class="field-error" id="error-{name}" data-testid="error-{name}" '
        f'aria-live="polite">{escape(message)}</p>'
    )


def alert(message: str, testid: str = "form-error") -> str:
    """Render a banner that announces a problem to the reader and to assistive technology."""
    return f'<div role="alert" data-testid="{testid}">{escape(message)}</div>' if message else ""
