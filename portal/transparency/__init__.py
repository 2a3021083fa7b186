"""The transparency dashboard: numbers and server-rendered charts anyone can read."""
