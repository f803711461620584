"""The perceptron on linearly separable data, with Novikoff's R^2/gamma^2 bound."""
