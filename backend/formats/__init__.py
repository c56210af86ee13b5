"""The CSV import formats: what each kind contains and how a file is read."""
