"""Who may change the portal settings (picked up by tests/core/test_access.py)."""

ACCESS = {"settings.index": "admin"}
