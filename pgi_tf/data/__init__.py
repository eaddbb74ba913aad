"""Data: one table of dataset sources (datasets.py) and their readers, masks, clips, landmarks."""
