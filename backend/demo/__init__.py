"""A demo school with realistic generated data, for trying the console."""
