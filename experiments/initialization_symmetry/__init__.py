"""Initialization: constant weights never break the symmetry between hidden units."""
