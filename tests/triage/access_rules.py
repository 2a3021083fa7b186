"""Who may open the triage pages (picked up by tests/core/test_access.py)."""

ACCESS = {
    "triage.move": "admin",
    "triage.decide_request": "admin",
    "triage.queue": "admin",
    "triage.bulk": "admin",
    "triage.need": "admin",
    "triage.duplicates": "admin",
    "triage.category": "admin",
    "triage.title": "admin",
    "triage.position": "admin",
    "triage.note": "admin",
    "triage.add_supporters": "admin",
    "triage.ask_input": "admin",
    "triage.intake": "staff",
    "triage.intake_done": "staff",
}
