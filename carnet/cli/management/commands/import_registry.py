from carnet.cli.imports import ChunkedCsvImportCommand
from carnet.identity.registry import RegistryFileError, import_registry


class Command(ChunkedCsvImportCommand):
    help = "Import an insurance registry extract (UTF-8 CSV) and notify the new persons."
    columns = "nir,vitale_serial,family_name,..."
    file_error = RegistryFileError

    def importer(self, path, *, chunk_size, on_error):
        return import_registry(path, chunk_size=chunk_size, on_error=on_error)
