"""A GRU classifying MNIST-1D read as a sequence (Greydanus, 2020)."""
