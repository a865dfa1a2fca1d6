"""The insurance registry import: how spaces are created.

Streams the CSV in chunks (constant memory whatever the size), validates every row, upserts by NIR
(idempotent: a second run changes nothing), skips opposed NIRs, and gives each new person a notice
with a provisional code (email, or a letter in this run's print batch). A child may come before its
parent in the file: such rows wait in a spill file and are retried once the file has been read.

A registry extract holds millions of rows, so the write path is built for volume (bench/README.md
has the figures). Each chunk is one transaction. On PostgreSQL the lookups take one array parameter,
new rows go in with binary COPY under ids reserved from the tables' sequences, and a second thread with
its own connection writes each chunk while this one validates and prepares the next; other databases
(the SQLite demo) take the same rows through the ORM, in the calling thread.

The package, by what each part answers for:

- `parsing`: what a valid row is (columns, rules, messages) and how the file is read;
- `bulk`: provisional codes, UUIDs and keyed hashes drawn a chunk at a time;
- `notice_texts`: the notices of a run, rendered once per kind and filled in;
- `store`: the lookups and writes (COPY under reserved ids, the writer thread);
- `importer`: the run itself (chunks, parents, notices, report) and `import_registry`.
"""

from .importer import ImportReport, RegistryImport, import_registry
from .parsing import COLUMNS, RegistryFileError, RegistryRow, RowInvalid, parse_row, read_rows

__all__ = ["COLUMNS", "ImportReport", "RegistryFileError", "RegistryImport", "RegistryRow", "RowInvalid",
           "import_registry", "parse_row", "read_rows"]
