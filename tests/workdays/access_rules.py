"""Who may keep the working-day calendar (picked up by tests/core/test_access.py)."""

ACCESS = {"workdays.calendar": "admin", "workdays.remove_day": "admin"}
