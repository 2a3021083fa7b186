"""Admin triage: the queue, the admin page of a need, staff intake."""
