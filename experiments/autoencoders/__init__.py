"""The autoencoder family on scikit-learn digits."""
