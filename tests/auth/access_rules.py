"""Who may open the sign-in pages added for staff two-factor sign-in (picked up
by tests/core/test_access.py). The second step answers everyone, and sends
visitors without a pending login back to the login page; setting it up is for
staff (or a staff login waiting for it). The users' admin pages and the
two-factor requirement are for admins."""

ACCESS = {
    "auth.two_factor": "public",
    "auth.two_factor_setup": "staff",
    "users.index": "admin",
    "users.change_role": "admin",
    "users.set_active": "admin",
    "users.reset_two_factor": "admin",
    "users.two_factor_policy": "admin",
}
