"""A member's own page: submissions, supports, votes, follows, settings."""
