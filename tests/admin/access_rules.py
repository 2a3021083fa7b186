"""Who may open the admin management pages (picked up by tests/core/test_access.py)."""

ACCESS = {
    endpoint: "admin"
    for endpoint in (
        "admin.users",
        "admin.change_role",
        "admin.set_active",
        "admin.reset_two_factor",
        "admin.settings",
        "admin.two_factor_policy",
        "admin.audit",
        "admin.checks",
        "admin.record_check",
    )
}
