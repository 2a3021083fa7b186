"""Who may manage the categories and their extra questions (picked up by
tests/core/test_access.py)."""

ACCESS = {
    endpoint: "admin"
    for endpoint in (
        "categories.index",
        "categories.new",
        "categories.edit",
        "categories.questions",
        "categories.create_question",
        "categories.update_question",
        "categories.set_question_active",
        "categories.move_question",
    )
}
