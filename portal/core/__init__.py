"""Pages that belong to no single area: home, health, privacy, language."""
