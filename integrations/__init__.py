"""The built-in plugins: one package per third party (see docs/plugins.md)."""
