"""Admin triage: the dashboard, the queue, the admin page of a need, staff intake."""
