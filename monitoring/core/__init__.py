"""Plumbing that every feature uses."""
