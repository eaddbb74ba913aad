"""Data: datasets, masks and (issue 4) landmarks."""
