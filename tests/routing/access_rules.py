"""The routing rules' pages: portal admins only (tests/core/test_access.py)."""

ACCESS = {
    endpoint: "admin"
    for endpoint in ("routing.index", "routing.add", "routing.remove", "routing.move")
}
