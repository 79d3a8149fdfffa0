"""Departmental systems that work with files: known references in, daily files out."""
