"""The shop's catalog: products, search and filters, and how prices are written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """One product of the catalog."""

    sku: str
    name: str
    category: str
    brand: str
    price: float
    stock: int
    description: str


PRODUCTS: tuple[Product, ...] = (
    Product("MUG-RED", "Red Mug", "Kitchen", "Potter & Co", 9.5, 12, "A sturdy stoneware mug."),
    Product("POT-BLU", "Blue Teapot", "Kitchen", "Potter & Co", 24.0, 3, "Brews four cups."),
    Product("PLT-GRN", "Green Plate", "Kitchen", "Potter & Co", 6.25, 40, "Dishwasher safe."),
    Product(
        "ESP-PRO",
        "Espresso Machine",
        "Kitchen",
        "Brewlab",
        1299.0,
        2,
        "Dual boiler, fifteen bar.",
    ),
    Product("CAN-STL", "Steel Watering Can", "Garden", "Greenhand", 32.0, 7, "Holds five litres."),
    Product("SHR-PRO", "Pruning Shears", "Garden", "Greenhand", 18.75, 0, "Carbon steel blades."),
    Product("LMP-DSK", "Desk Lamp", "Office", "Lumen", 45.0, 9, "Warm white, dimmable."),
    Product("NTB-A5", "A5 Notebook", "Office", "Paperhaus", 4.99, 120, "Dotted, 160 pages."),
)

CATEGORIES: tuple[str, ...] = ("Kitchen", "Garden", "Office")


def money(amount: float) -> str:
    """Write an amount the way the shop shows prices: `$1,299.00`."""
    return f"${amount:,.2f}"


def find(sku: str) -> Product | None:
    """Return the product with this SKU, or None."""
    return next((product for product in PRODUCTS if product.sku == sku), None)


def search(
    query: str = "",
    category: str = "",
    min_price: float | None = None,
    max_price: float | None = None,
    in_stock: bool = False,
) -> list[Product]:
    """Products matching every filter given, in catalog order."""
    needle = query.strip().casefold()
    return [
        product
        for product in PRODUCTS
        if (not needle or needle in f"{product.name} {product.description}".casefold())
        and (not category or product.category == category)
        and (min_price is None or product.price >= min_price)
        and (max_price is None or product.price <= max_price)
        and (not in_stock or product.stock > 0)
    ]
