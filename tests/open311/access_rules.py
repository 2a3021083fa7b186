"""The Open311 GeoReport v2 endpoints are public: reading needs no account,
and submitting authenticates with an api_key, not a session."""

ACCESS = {
    "open311.discovery": "public",
    "open311.service_list": "public",
    "open311.service_definition": "public",
    "open311.requests": "public",
    "open311.request_detail": "public",
    "open311.request_token": "public",
}
