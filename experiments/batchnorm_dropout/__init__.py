"""Batch norm (course final phase vs running average) and dropout, on and off."""
