"""Comments on needs and projects, reports and moderation."""
