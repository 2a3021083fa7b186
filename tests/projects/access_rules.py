"""Who may use the project pages (consumed by tests/core/test_access.py)."""

ACCESS = {
    "projects.index": "public",
    "projects.show": "public",
    "projects.follow": "login",
    "projects.my_proposals": "login",
    "projects.new_proposal": "login",
    "projects.edit_proposal": "login",
    # The lead and supporting partners' staff, and admins: members get 403.
    "projects.post_update": "staff",
    "projects.add_milestone": "staff",
    "projects.complete_milestone": "staff",
    "projects.set_progress": "staff",
    "projects.set_achieved": "staff",
    "projects.change_status": "staff",
    "projects.add_commitment": "staff",
    "projects.mark_delivered": "staff",
    "projects.link_needs": "staff",
    "projects.admin_index": "admin",
    "projects.admin_proposal": "admin",
    "projects.approve_proposal": "admin",
    "projects.request_changes": "admin",
    "projects.decline_proposal": "admin",
    "projects.admin_new": "admin",
    "projects.approve_update": "admin",
    "projects.reject_update": "admin",
}
