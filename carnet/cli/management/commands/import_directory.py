from carnet.cli.imports import ChunkedCsvImportCommand
from carnet.sharing.directory import DirectoryFileError, import_directory


class Command(ChunkedCsvImportCommand):
    help = "Import a professionals' directory extract (UTF-8 CSV: rpps,family_name,given_names,profession_code,...)."
    columns = "rpps,family_name,given_names,profession_code,specialty_code,finess,email"
    file_error = DirectoryFileError

    def importer(self, path, *, chunk_size, on_error):
        return import_directory(path, chunk_size=chunk_size, on_error=on_error)
