"""An email backend whose server is down, for tests of what happens when mail cannot be sent."""

from django.core.mail.backends.base import BaseEmailBackend


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("The mail server is not answering.")
