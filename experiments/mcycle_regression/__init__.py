"""MCycle regression: a 1-10-1 network, sigmoid hidden layer, linear output."""
