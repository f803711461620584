"""Decision boundaries of a 2-hidden-layer (4, 2) network: tanh against ReLU."""
