"""Insured persons, accounts, registry import, provisional codes, opposition, activation, login."""
