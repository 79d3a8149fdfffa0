"""The payer's basket: kept in their session on the server, one per payments home.

Nothing about an item travels in the page: the browser holds only the session
cookie, and the forms post what the payer typed. Every item is checked again
(``items.check_item``) before "Check your answers" shows it and before "Pay"
takes it, with prices read afresh from the database.

The basket's ``token`` names its content: it changes whenever an item or the
payer's details change, and it is the idempotency key of the payment made from
it. So "Pay" pressed twice for the same basket finds the same payment, and a
changed basket is a new payment.
"""

import secrets
from dataclasses import asdict, dataclass, field

SESSION_KEY = "portal.baskets"
MAX_ITEMS = 10


class BasketFull(ValueError):
    """The basket already holds ``MAX_ITEMS`` items."""


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Item:
    """One thing to pay for, as the payer gave it and the checks accepted it."""

    id: str
    page_id: int
    fund_id: int
    service_id: int | None
    reference: str
    amount_pence: int
    description: str

    @classmethod
    def from_dict(cls, data: dict) -> "Item":
        return cls(
            id=str(data["id"]),
            page_id=int(data["page_id"]),
            fund_id=int(data["fund_id"]),
            service_id=None if data.get("service_id") is None else int(data["service_id"]),
            reference=str(data.get("reference", "")),
            amount_pence=int(data["amount_pence"]),
            description=str(data.get("description", "")),
        )


PAYER_FIELDS = ("name", "email", "address_line_1", "address_line_2", "town", "postcode")


@dataclass
class Basket:
    """A payer's basket for one payments home; ``save()`` puts it back in the session."""

    home_id: int
    token: str = field(default_factory=new_token)
    items: list[Item] = field(default_factory=list)
    payer: dict = field(default_factory=dict)
    # The checkouts this session made from this home, newest last: only these may be
    # found again by a posted token, and the newest is offered to resume.
    checkout_ids: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, session, home_id: int) -> "Basket":
        stored = session.get(SESSION_KEY, {}).get(str(home_id))
        if not stored:
            return cls(home_id=home_id)
        try:
            return cls(
                home_id=home_id,
                token=str(stored["token"]),
                items=[Item.from_dict(item) for item in stored.get("items", [])],
                payer={
                    name: str(value)
                    for name, value in stored.get("payer", {}).items()
                    if name in PAYER_FIELDS
                },
                checkout_ids=[int(pk) for pk in stored.get("checkout_ids", [])],
            )
        except (KeyError, TypeError, ValueError):
            # A session from an older layout: start again rather than guess.
            return cls(home_id=home_id)

    def save(self, session) -> None:
        baskets = dict(session.get(SESSION_KEY, {}))
        baskets[str(self.home_id)] = {
            "token": self.token,
            "items": [asdict(item) for item in self.items],
            "payer": self.payer,
            "checkout_ids": self.checkout_ids[-20:],
        }
        session[SESSION_KEY] = baskets

    # Reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.items)

    @property
    def total_pence(self) -> int:
        return sum(item.amount_pence for item in self.items)

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    @property
    def latest_checkout_id(self) -> int | None:
        return self.checkout_ids[-1] if self.checkout_ids else None

    # Changing: every change is a new basket, so a new token ------------------------------

    def _changed(self) -> None:
        self.token = new_token()

    def add(self, item: Item) -> None:
        if len(self.items) >= MAX_ITEMS:
            raise BasketFull(
                f"Your basket can hold {MAX_ITEMS} payments at most: pay for these first."
            )
        self.items.append(item)
        self._changed()

    def replace(self, item: Item) -> None:
        self.items = [item if old.id == item.id else old for old in self.items]
        self._changed()

    def remove(self, item_id: str) -> Item | None:
        removed = self.item(item_id)
        if removed is not None:
            self.items = [item for item in self.items if item.id != item_id]
            self._changed()
        return removed

    def set_payer(self, payer: dict) -> None:
        payer = {name: str(payer.get(name) or "") for name in PAYER_FIELDS}
        if payer != self.payer:
            self.payer = payer
            self._changed()

    def paid_with(self, checkout_id: int) -> None:
        if checkout_id not in self.checkout_ids:
            self.checkout_ids.append(checkout_id)

    def restore(self, items: list[Item], payer: dict) -> None:
        """The basket of an unsuccessful payment, ready to pay again (as a new payment)."""
        self.items = list(items)
        self.payer = {name: str(payer.get(name) or "") for name in PAYER_FIELDS}
        self._changed()

    def empty(self) -> None:
        """After a successful payment: nothing left to pay, details forgotten."""
        self.items = []
        self.payer = {}
        self._changed()


def new_item_id() -> str:
    return secrets.token_hex(4)
