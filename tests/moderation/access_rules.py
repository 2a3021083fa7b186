"""Who may use the sensitive-term list (picked up by tests/core/test_access.py)."""

ACCESS = {
    "moderation.words": "admin",
    "moderation.add_word": "admin",
    "moderation.remove_word": "admin",
    "moderation.import_words": "admin",
}
