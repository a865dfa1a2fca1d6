"""FHIR R4 REST face at /fhir/: read and search on a person's space for the holder and their legal
representatives, and for professionals (clinical software with a professional bearer token) under the
holder's sharing policy (SMART apps come with the catalogue issue); and the IHE MHD / ANS PDSm writes of
clinical software (`write.py`, `publish.py`, `patch.py`, rules in `carnet.interop.mhd`):
- ITI-65 `POST /fhir/` (transaction Bundle: one SubmissionSet List, DocumentReferences, Binaries; Folders are
  kept), ITI-105 `POST /fhir/DocumentReference` (content inline): PDSm metadata checked against the CI-SIS value
  sets (J07 type, TRE_A03 class, J10 format, J02, J04, J08), bytes against the declared size and SHA-1, the patient
  by INS; all or nothing; the same uniqueIds again = the same answer, nothing new (a uniqueId reused for other
  content: 409); `relatesTo` replaces (author only) supersedes the old version; bodies over
  CARNET_FHIR_MAX_BODY_BYTES (64 MB) are a 413 before they are read. An unknown INS and a space that is not open
  both answer 422 `space_not_open` (a different answer would reveal whether the person has a space);
- PDSm metadata update: JSON Patch (`PATCH /fhir/DocumentReference/<id>` or `?identifier=`) on status,
  securityLabel (MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX, N) and PDSm_isArchived only (else
  405), by the document's author, each a new version;
- ITI-66 `GET /fhir/List`: the SubmissionSets and Folders with at least one document the caller may read
  (`lists.py`).
Refusals of these writes carry their reason code in `issue.details.coding` like policy denials (e.g.
`unknown_author`, `not_author`, `hash_mismatch`, `size_mismatch`, `mime_mismatch`, `unknown_type`,
`patient_mismatch`, `duplicate_unique_id`).

Choices a client relies on (also in GET /fhir/metadata):
- ids are public UUIDs: Patient = person, DocumentReference = document, Binary = the same id as its
  DocumentReference, profile resources = their entry;
- DocumentReference.date (and the `date` search) is when the document was filed; the act date is
  `context.period.start` (the `period` search); statuses current/superseded, deleted never returned;
- no `attachment.hash` (R4 wants SHA-1, we keep SHA-256): the SHA-256 hex is in an attachment extension;
- strict search by default (unknown parameter = 400), `Prefer: handling=lenient` to ignore;
- every search also as `POST <Type>/_search` with a form body, so that an INS or identity traits stay out of URLs;
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
- Patient lookup (PDSm space existence check, PDQm ITI-78: docs/decisions/0011-patient-lookup.md): by INS
  (`identifier`) and/or complete identity traits, the exception to the 404 rule above is an empty searchset,
  never a 404: an open space answers `active: true`; a space that is not open answers `active: false` only to a
  professional who already knew it (authorised once, or filed a document there), and nothing otherwise, like an
  unknown INS. Each lookup naming a person is one event (`patient.lookup`), hidden answers included.
- IHE MHD ITI-67 on DocumentReference (`patient.identifier`, `setting`, `facility`, `event`, `author.*`,
  `security-label`, `format`, `related`, `identifier`) and ITI-68 on Binary (the bytes as filed; a client naming
  the document's own media type, e.g. text/xml for a CDA, gets them raw).
"""
