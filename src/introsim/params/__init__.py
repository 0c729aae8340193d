"""Parameters: the scenario schema (every parameter once) and the file loader."""
