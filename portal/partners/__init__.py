"""Partner organisations: the directory, their pages and their workspace."""
