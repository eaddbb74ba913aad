"""Networks, one file per network."""
