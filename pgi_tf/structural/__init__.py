"""Structural priors (§4.2): facial landmarks, and a generic silhouette prior for any dataset."""
