"""Litestar controllers: one per endpoint, plus the API documentation."""
