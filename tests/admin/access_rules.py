"""Who may open the admin dashboard (picked up by tests/core/test_access.py);
each area's admin pages are in its own tests/<area>/access_rules.py."""

ACCESS = {"admin.dashboard": "admin"}
