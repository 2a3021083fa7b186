"""Routing rules: which organisation a need goes to, by category and area."""
