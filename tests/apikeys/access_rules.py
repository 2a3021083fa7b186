"""Who may manage Open311 API keys (picked up by tests/core/test_access.py)."""

ACCESS = {"apikeys.index": "admin", "apikeys.issue": "admin", "apikeys.revoke": "admin"}
