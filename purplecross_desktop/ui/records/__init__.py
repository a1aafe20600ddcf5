"""The client and patient records: what the desk opens from a list, the palette or Today."""
