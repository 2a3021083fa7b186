"""The privacy law's (PIPL) rights: a member's data export and account deletion,
a submitter's erasure of their contact details, the retention period of
contact details, and `Cache-Control: no-store` on pages with personal data.

This package sits above the areas it erases in (needs, notify, projects,
auth): they know nothing of it."""
