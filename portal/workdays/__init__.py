"""Working days: the holiday calendar with make-up working days, and due dates."""
