"""Command-line front: thin commands over the service functions."""
