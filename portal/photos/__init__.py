"""Photos on needs: checked by content, re-encoded without metadata, stored
outside static/ and served only to those who may see the need."""
