"""Who may manage a category's extra questions (picked up by tests/core/test_access.py)."""

ACCESS = {
    "questions.index": "admin",
    "questions.create": "admin",
    "questions.update": "admin",
    "questions.set_active": "admin",
    "questions.move": "admin",
}
