"""The `carnet` command's own subcommands and the daily job runner."""
