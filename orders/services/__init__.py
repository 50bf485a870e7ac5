"""Every write about orders goes through these modules."""
