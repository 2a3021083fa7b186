"""Accounts: registration, e-mail verification, login, logout, password reset."""
