"""The partner workspace: partner staff only (tests/core/test_access.py)."""

ACCESS = {
    endpoint: "partner"
    for endpoint in (
        "partner.inbox",
        "partner.need",
        "partner.move",
        "partner.update",
        "partner.note",
        "partner.give_input",
        "partner.ask_input",
        "partner.extension",
        "partner.transfer",
    )
}
