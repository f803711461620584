"""MLP on MNIST-1D (Greydanus, 2020)."""
