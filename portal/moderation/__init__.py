"""Content safety: the admin-managed list of sensitive terms, the matcher that
finds them in what people write, and the link rule. Comments, project updates
and needs ask `screen()` before they publish anything."""
