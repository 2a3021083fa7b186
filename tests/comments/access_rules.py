"""Who may open the comment pages (picked up by tests/core/test_access.py)."""

ACCESS = {
    "comments.need_comments": "public",
    "comments.project_comments": "public",
    "comments.comment_on_need": "login",
    "comments.comment_on_project": "login",
    "comments.report": "login",
    "comments.moderation": "admin",
    "comments.hide": "admin",
    "comments.restore": "admin",
}
