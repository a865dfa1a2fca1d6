"""The holder's web pages (DSFR, French first)."""
