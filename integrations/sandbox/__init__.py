"""A pretend card provider with its own hosted card page, for demos and tests."""
