"""Importance sampling with the optimal proposal q* = p |f| / Z."""
