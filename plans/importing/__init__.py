"""Reading a catalog file for the admin's import: the upload and its cells (nothing here writes)."""
