"""Admin management: partners, categories, users, calendar, settings, audit log, quality checks."""
