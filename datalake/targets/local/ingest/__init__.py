"""ingest on the local target: schema inference and the staged conversion of the user's files."""
