"""The response loop: the one place where a need's status changes."""
