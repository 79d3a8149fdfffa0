"""The plugin system: hook specifications, the plugin manager and entry-point loading.

Payment providers, telephone payment systems and departmental systems connect
through pluggy hooks declared here; concrete plugins live in ``integrations/``.
"""
