"""Who may read the audit log and run quality checks (picked up by
tests/core/test_access.py)."""

ACCESS = {"audit.log": "admin", "audit.checks": "admin", "audit.record_check": "admin"}
