"""The slides' CNN, LeNet-5 and a 784-200-200-10 MLP on the MNIST digits."""
