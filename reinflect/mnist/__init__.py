"""The MNIST sanity model: M1 (VAE) and M2 (semi-supervised) on the shared VAE core."""
