"""The partner workspace: partner staff only (tests/core/test_access.py)."""

ACCESS = {
    endpoint: "partner"
    for endpoint in (
        "partner.inbox",
        "partner.need",
        "partner.accept",
        "partner.decline",
        "partner.decline_transfer",
        "partner.start",
        "partner.update",
        "partner.resolve",
        "partner.note",
        "partner.extension",
        "partner.transfer",
    )
}
