"""Automated telephone payment (IVR) systems, through a documented JSON exchange."""
