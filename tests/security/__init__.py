"""Keeps the findings of the security audit from coming back."""
