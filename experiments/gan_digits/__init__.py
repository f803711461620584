"""GAN on scikit-learn digits: a sample grid (Goodfellow et al., 2014)."""
