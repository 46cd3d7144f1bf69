"""Sources: the outside world into records for the local twin."""
