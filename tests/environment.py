"""Test-run defaults, loaded as a pytest plugin (`-p tests.environment`) so that they are
in place before pytest-django reads the settings."""

import os

# Tests run with the production defaults (DEBUG off), which demand a secret key.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# The test client speaks plain HTTP; the redirect to HTTPS is tested on its own.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Integration secrets are encrypted with a key from the environment; a fixed one for tests.
os.environ.setdefault("SECRETS_ENCRYPTION_KEYS", "8dIrWz1jJ4G9Qy0V0pV4qKkq3hW2b3H0x6TqNw1sZ4E=")
