"""The audit log of every admin and partner action: append-only."""
