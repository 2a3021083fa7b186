"""E-mail (through the outbox) and, later, in-app notifications."""
