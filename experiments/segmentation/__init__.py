"""Synthetic segmentation by a fully convolutional per-pixel classifier."""
