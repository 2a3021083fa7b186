"""Members' voice: supporting needs, the priorities ranking, priority rounds."""
