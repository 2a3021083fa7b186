"""Feedback on answers: resolved or not, how satisfied, from the people who asked."""
