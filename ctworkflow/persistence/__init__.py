"""Persistence: the only package that issues queries."""
