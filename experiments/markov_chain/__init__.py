"""A Markov chain's convergence to its stationary distribution."""
