"""Who may open the sign-in pages added for staff two-factor sign-in (picked up
by tests/core/test_access.py). The second step answers everyone, and sends
visitors without a pending login back to the login page; setting it up is for
staff (or a staff login waiting for it)."""

ACCESS = {
    "auth.two_factor": "public",
    "auth.two_factor_setup": "staff",
}
