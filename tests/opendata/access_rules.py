"""Open data, feeds and posters are public (picked up by tests/core/test_access.py)."""

ACCESS = {
    endpoint: "public"
    for endpoint in (
        "opendata.index",
        "opendata.download",
        "opendata.needs_feed",
        "opendata.category_feed",
        "opendata.project_feed",
        "opendata.posters_index",
        "opendata.category_poster",
        "opendata.category_qr",
        "opendata.place_poster",
    )
}
