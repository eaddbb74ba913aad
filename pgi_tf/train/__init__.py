"""Trainers, one module per stage."""
