"""Areas: the admins' tree of places (city → district → street → community), a
need's area, and the area filters and figures of the public pages."""
