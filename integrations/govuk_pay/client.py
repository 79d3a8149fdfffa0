"""A small client for GOV.UK Pay's public API: the four calls this plugin makes.

Every call authenticates with the council's API key as a bearer token and
waits at most ``settings.PROVIDER_TIMEOUT_SECONDS``. A timeout, a connection
failure, "too many requests" or a server error (5xx) raises ``ProviderError``:
the caller leaves the payment as it was and it is asked about again later.
Other refusals (4xx) are returned to the caller as ``Refusal``s, since what
they mean depends on the call. The API key is never logged nor put in a
message.
"""

import dataclasses
import logging
import re

import httpx
from django.conf import settings

from plugins.types import ProviderError

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://publicapi.payments.service.gov.uk"


@dataclasses.dataclass(frozen=True)
class Refusal:
    """GOV.UK Pay refused a request (a 4xx answer other than 429): its status and reasons."""

    status_code: int
    code: str = ""
    description: str = ""
    field: str = ""

    def __str__(self) -> str:
        said = self.description or "no reason given"
        code = f" {self.code}" if self.code else ""
        return f"GOV.UK Pay refused the request ({self.status_code}{code}): {said}"


def _refusal(response: httpx.Response) -> Refusal:
    """Read GOV.UK Pay's error body (``code``, ``description``, ``field``), if it sent one."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return Refusal(
        status_code=response.status_code,
        code=str(body.get("code") or ""),
        description=str(body.get("description") or ""),
        field=str(body.get("field") or ""),
    )


class GovukPayClient:
    """One council's GOV.UK Pay account, reached at ``base_url`` with ``api_key``."""

    def __init__(self, *, base_url: str, api_key: str, timeout: float):
        if not api_key:
            raise ProviderError(
                "No GOV.UK Pay API key is set for this integration: create one in the "
                "GOV.UK Pay admin tool and enter it in the integration's settings."
            )
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._api_key = api_key
        self.timeout = timeout

    def __repr__(self) -> str:
        # Never the key: this may end up in a traceback or a log.
        return f"<GovukPayClient {self.base_url}>"

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response | Refusal:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            **kwargs.pop("headers", {}),
        }
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout) as http:
                response = http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise ProviderError(
                f"GOV.UK Pay did not answer {method} {path} within {self.timeout:g} seconds."
            ) from None
        except httpx.HTTPError as error:
            # The message of an httpx error names the URL, never the headers.
            raise ProviderError(
                f"GOV.UK Pay could not be reached for {method} {path}: {error}"
            ) from None
        if response.status_code == 429 or response.status_code >= 500:
            refusal = _refusal(response)
            raise ProviderError(
                f"GOV.UK Pay answered {method} {path} with {response.status_code}: "
                f"{refusal.description or response.reason_phrase}"
            )
        if response.status_code >= 400:
            refusal = _refusal(response)
            logger.info("GOV.UK Pay refused %s %s: %s", method, path, refusal)
            return refusal
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderError(
                f"GOV.UK Pay answered {response.request.method} {response.request.url.path} "
                "with something other than a JSON object."
            )
        return body

    def _expect_json(self, method: str, path: str, **kwargs) -> dict:
        answer = self._send(method, path, **kwargs)
        if isinstance(answer, Refusal):
            raise ProviderError(str(answer))
        return self._json(answer)

    def create_payment(self, body: dict, *, idempotency_key: str) -> dict:
        """POST /v1/payments: GOV.UK Pay's new payment, with its ``next_url`` for the payer.

        The same ``idempotency_key`` sent again (a retry after a timeout)
        gets the payment first created, not a second one.
        """
        return self._expect_json(
            "POST", "/v1/payments", json=body, headers={"Idempotency-Key": idempotency_key}
        )

    def get_payment(self, payment_id: str) -> dict:
        """GET /v1/payments/{paymentId}: the payment as GOV.UK Pay sees it now."""
        return self._expect_json("GET", f"/v1/payments/{_path_part(payment_id)}")

    def refund_payment(
        self, payment_id: str, *, amount: int, refund_amount_available: int
    ) -> dict | Refusal:
        """POST /v1/payments/{paymentId}/refunds: the refund, or GOV.UK Pay's refusal."""
        answer = self._send(
            "POST",
            f"/v1/payments/{_path_part(payment_id)}/refunds",
            json={"amount": amount, "refund_amount_available": refund_amount_available},
        )
        if isinstance(answer, Refusal):
            return answer
        # 202 Accepted may come without a body; the refund is accepted all the same.
        return self._json(answer) if answer.content else {}

    def search_payments(self, params: dict) -> dict:
        """GET /v1/payments with search ``params``: one page of results."""
        return self._expect_json("GET", "/v1/payments", params=params)


def _path_part(value: str) -> str:
    """A GOV.UK Pay id as one path segment: ids are letters and digits, nothing else."""
    if not re.fullmatch(r"[A-Za-z0-9]{1,100}", value or ""):
        raise ProviderError(f"'{value}' is not a GOV.UK Pay payment id.")
    return value


def client_for(integration) -> GovukPayClient:
    """The client for a council's integration, with the timeout in force now."""
    config = integration.config
    return GovukPayClient(
        base_url=config.get("base_url") or DEFAULT_BASE_URL,
        api_key=config.get("api_key", ""),
        timeout=settings.PROVIDER_TIMEOUT_SECONDS,
    )
