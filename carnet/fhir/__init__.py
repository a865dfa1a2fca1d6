"""FHIR R4 REST face at /fhir/: read and search on a person's space for the holder and their legal
representatives (professionals and SMART apps come with the sharing and catalogue issues).

Choices a client relies on (also in GET /fhir/metadata):
- ids are public UUIDs: Patient = person, DocumentReference = document, Binary = the same id as its
  DocumentReference, profile resources = their entry;
- DocumentReference.date (and the `date` search) is when the document was filed; the act date is
  `context.period.start` (the `period` search); statuses current/superseded, deleted never returned;
- no `attachment.hash` (R4 wants SHA-1, we keep SHA-256): the SHA-256 hex is in an attachment extension;
- strict search by default (unknown parameter = 400), `Prefer: handling=lenient` to ignore;
- JSON only: `_format=json` or Accept application/fhir+json / application/json; XML is a 406.
"""
