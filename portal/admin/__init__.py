"""Administration: the navigation between the admin pages, which each area owns."""
