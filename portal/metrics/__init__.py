"""The response-loop numbers, computed from the timeline."""
