"""Bagging and boosting vs a single model on noisy two moons."""
