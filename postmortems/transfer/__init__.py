"""Export, import and backup: our own file format, public postmortem collections, SQLite copies."""
