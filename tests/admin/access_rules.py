"""Who may open the admin management pages (picked up by tests/core/test_access.py)."""

ACCESS = {
    endpoint: "admin"
    for endpoint in (
        "admin.audit",
        "admin.checks",
        "admin.record_check",
    )
}
