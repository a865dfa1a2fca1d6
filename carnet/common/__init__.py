"""Small helpers shared by every app (no models, no HTTP)."""
