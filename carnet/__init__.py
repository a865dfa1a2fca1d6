"""Carnet: an open-source personal digital health space."""
