"""Photos: served to anyone who may see them (the view checks; tests/photos/test_serving.py),
hidden and shown again by administrators only (tests/core/test_access.py)."""

ACCESS = {
    "photos.serve": "public",
    "photos.hide": "admin",
    "photos.show": "admin",
}
