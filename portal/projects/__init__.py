"""Collaborative projects (协同项目): proposals, review, milestones, commitments and updates."""
