"""Measured experiments behind the site's results page (`make experiments`)."""
