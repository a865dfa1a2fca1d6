"""FHIR R4 REST face at /fhir/: read and search on a person's space for the holder and their legal
representatives, and for professionals (clinical software with a professional bearer token) under the
holder's sharing policy (SMART apps come with the catalogue issue).

Choices a client relies on (also in GET /fhir/metadata):
- ids are public UUIDs: Patient = person, DocumentReference = document, Binary = the same id as its
  DocumentReference, profile resources = their entry;
- DocumentReference.date (and the `date` search) is when the document was filed; the act date is
  `context.period.start` (the `period` search); statuses current/superseded, deleted never returned;
- no `attachment.hash` (R4 wants SHA-1, we keep SHA-256): the SHA-256 hex is in an attachment extension;
- strict search by default (unknown parameter = 400), `Prefer: handling=lenient` to ignore;
- JSON only: `_format=json` or Accept application/fhir+json / application/json; XML is a 406.

Professionals (issue 4: "denials are explicit — 403 with a reason code for professionals, 404 for anything
that would reveal whether a space exists"):
- 404, like an unknown id: an unknown patient, document or entry; a deleted document; a space that is
  not open (notified, opposed, closed: saying so would reveal that the person has, or refused, a space);
- 403 with the policy's reason in `issue.details.coding` (system
  https://carnet.sante.fr/fhir/CodeSystem/access-decision) and its French message in `diagnostics`:
  `no_authorisation` on an active space the holder has not authorised (the professional needs to know,
  to ask for consent; the id is a random UUID they only hold from an identity check or a document they
  filed, so this is no probe), `blocked`, `habilitation`, `masked`, and this face's `private_section`
  for a profile section that is not shared with professionals;
- `patient` is required on every search (400): a professional has no space of their own. A search is one
  access event on the space (`READ_RECORD`, subject `search:<type>`), not one per result; a Patient search
  lists the spaces they may read now, one event per listed Patient; a DocumentReference or Binary read is
  one event on the document (`READ_DOCUMENT`, subject `document:<uuid>`); every denial is an event too.
- A blocked or unauthorised professional's search is refused at space level even though they may still
  read, one by one, the documents they authored (the policy's `author` rule on READ_DOCUMENT).
"""
