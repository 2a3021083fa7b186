"""Who may open the area pages (picked up by tests/core/test_access.py)."""

ACCESS = {
    "areas.choices": "public",
    "areas.admin_index": "admin",
    "areas.admin_new": "admin",
    "areas.admin_edit": "admin",
    "areas.admin_import": "admin",
    "areas.need_area": "admin",
}
