"""Open data downloads (CSV, JSON), Atom feeds and printable QR posters."""
