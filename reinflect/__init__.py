"""reinflect: morphological reinflection with a semi-supervised sequence VAE.

Importing the package has no side effects and pulls in nothing heavy; the
modules are imported by name (``from reinflect.vae import kl``).
"""

__version__ = "0.1.0"
