"""Shared fixtures. Plugins are named here so pytest loads (and assert-rewrites) them before any test module."""

pytest_plugins = ["translation_harness"]
