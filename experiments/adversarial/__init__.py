"""Adversarial examples (FGSM, PGD) and adversarial training on scikit-learn digits."""
