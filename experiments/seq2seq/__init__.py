"""Encoder-decoder on a synthetic transduction: teacher forcing vs free running."""
