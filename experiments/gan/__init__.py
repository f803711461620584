"""GAN on a ring of 8 Gaussians (mode coverage) and on scikit-learn digits."""
