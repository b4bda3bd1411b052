"""The benchmark suite written with pytest-playwright (``page``)."""
