"""Initialization: the scale of the weights through a deep plain network."""
