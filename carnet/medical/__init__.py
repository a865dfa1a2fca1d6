"""Profil médical: the holder's own notebook of health facts, stored as sealed FHIR R4 resources."""
