"""Configs of the hyperparameter-search experiment."""
