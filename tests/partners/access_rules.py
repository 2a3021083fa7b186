"""The partner workspace and a partner admin's page of their own organisation:
partner staff only (the organisation's page: its partner admins, the others
403, see tests/partners/test_partner_admin.py); the partners' admin pages:
admins only (tests/core/test_access.py)."""

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
            "partner_org.index",
            "partner_org.add_resource",
            "partner_org.update_resource",
            "partner_org.remove_resource",
            "partner_org.invite_staff",
        )
    },
    **{
        endpoint: "admin"
        for endpoint in (
            "partner_admin.index",
            "partner_admin.add_area",
            "partner_admin.remove_area",
            "partner_admin.new",
            "partner_admin.edit",
            "partner_admin.add_resource",
            "partner_admin.update_resource",
            "partner_admin.remove_resource",
            "partner_admin.invite_staff",
            "partner_admin.set_manager",
        )
    },
}
