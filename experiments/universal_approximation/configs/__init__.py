"""Configs of the universal-approximation experiment."""
