"""FHIR R4 REST face: read and search on a person's space for the holder and their representatives."""
