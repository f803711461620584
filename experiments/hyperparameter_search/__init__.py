"""Grid vs random search; learning-rate and capacity U-curves on MNIST-1D."""
