"""The partner workspace: partner staff only; the partners' admin pages: admins
only (tests/core/test_access.py)."""

ACCESS = {
    **{
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
    },
    **{
        endpoint: "admin"
        for endpoint in (
            "partner_admin.index",
            "partner_admin.new",
            "partner_admin.edit",
            "partner_admin.add_resource",
            "partner_admin.update_resource",
            "partner_admin.remove_resource",
            "partner_admin.invite_staff",
        )
    },
}
