"""Needs: submitting, listing, reading and tracking them."""
