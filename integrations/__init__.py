"""Concrete plugins, one package per third party (GOV.UK Pay, the sandbox provider, ...)."""
