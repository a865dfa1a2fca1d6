"""Formats ring (DESIGN.md §3): pure code, no database and no Django app. Upload checks (``formats``), CDA R2
headers and safe rendering (``cda``), DICOM summaries and previews (``dicom``), CI-SIS code tables
(``terminology``, data in ``data/``)."""
