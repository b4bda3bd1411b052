"""The benchmark suite written with pytest-smooth (``smooth_session``)."""
