"""GAN on a ring of Gaussians: mode coverage (Goodfellow et al., 2014)."""
