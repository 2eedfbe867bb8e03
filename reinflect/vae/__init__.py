"""The shared VAE core: distributions, KL terms, gradient estimators,
schedules and ELBOs. Imports torch only and knows nothing of words or digits.
"""
