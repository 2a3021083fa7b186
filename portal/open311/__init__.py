"""Open311 GeoReport v2 under /open311/v2/: discovery, services, requests, tokens, API keys."""
