"""Configs of the adversarial experiment."""
