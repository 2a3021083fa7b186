"""The sensitive-term list and the matcher."""
