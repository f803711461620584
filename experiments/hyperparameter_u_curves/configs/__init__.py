"""Configs of the hyperparameter-u-curves experiment."""
