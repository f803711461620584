"""Configs of the ensembles experiment."""
