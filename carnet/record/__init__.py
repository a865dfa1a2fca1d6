"""The health record: documents (FHIR DocumentReference / IHE XDS metadata, bytes in the vault)."""
