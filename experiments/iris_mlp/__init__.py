"""Iris with two features: a 2-10-3 sigmoid network trained on MSE by SGD."""
