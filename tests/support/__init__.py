"""Test helpers shared by every group: real servers on loopback, the translation harness, the stream validator."""
