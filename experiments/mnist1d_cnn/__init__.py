"""1-D CNN on MNIST-1D with the shuffled-input control (Greydanus, 2020)."""
