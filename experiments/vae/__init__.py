"""VAE on scikit-learn digits: ELBO curve, reconstructions, prior samples, 2-D latent."""
