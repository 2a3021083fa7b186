"""Following needs, in-app updates, e-mail through the outbox and daily digests."""
