"""Secure messaging between a person's space and healthcare professionals (messagerie sécurisée)."""
