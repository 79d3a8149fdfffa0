"""The Suspense screens as staff meet them: the items, an item's page and notes, allocating
with suggestions, running the rules, the ageing report, and rules with their dry run."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from backoffice.ledger.models import Journal, JournalStatus
from backoffice.payments.services import LineInput, Payer, payment_take
from backoffice.suspense.models import (
    SuspenseAllocation,
    SuspenseItem,
    SuspenseNote,
    SuspenseRule,
)
from backoffice.tenancy.models import Membership
from tests.conftest import assert_permission_denied
from tests.factories import (
    FundCodeFactory,
    FundGroupFactory,
    VatRateFactory,
    staff,
    suspense_rule,
)

from .conftest import account, grant, mistyped

pytestmark = pytest.mark.django_db

VIEW = "suspense.view_suspenseitem"
CHANGE = "suspense.change_suspenseitem"
ALLOCATE = "suspense.allocate_suspenseitem"
RULES = (
    "suspense.view_suspenserule",
    "suspense.add_suspenserule",
    "suspense.change_suspenserule",
    "suspense.delete_suspenserule",
)


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def url(name, *args):
    return reverse(f"suspense_{name}", args=args)


@pytest.fixture
def true(ctax):
    return account(ctax, "1234567")


@pytest.fixture
def item(ctax, suspense_fund, taken, true):
    """£50.00 for council tax, with two digits swapped."""
    return taken(ctax, mistyped(true), 5_000, payer="John Bold")


# The items ----------------------------------------------------------------------------------


def test_the_items_list_shows_what_waits_and_how_long(client, person, item, true):
    response = signed_in(client, person(VIEW)).get(url("item:index"))

    assert response.status_code == 200
    content = response.content.decode()
    assert mistyped(true) in content
    assert "John Bold" in content
    assert "£50.00" in content
    assert "In suspense" in content


def test_the_items_list_filters_by_status_age_and_fund(
    client, person, council, ctax, suspense_fund, taken, item
):
    other = taken(ctax, "99999999", 2_000)
    SuspenseItem.objects.filter(pk=other.pk).update(
        received_at=timezone.now() - datetime.timedelta(days=45)
    )
    client = signed_in(client, person(VIEW))

    def listed(**query):
        return set(client.get(url("item:index"), query).context["object_list"])

    assert listed() == {item, other}
    assert listed(age="two_months") == {other}
    assert listed(age="week") == {item}
    assert listed(status="open") == {item, other}
    assert listed(status="cleared") == set()
    assert listed(intended_fund_code=ctax.pk) == {item, other}
    assert listed(q="9999") == {other}


def test_another_councils_items_are_neither_listed_nor_found(client, other_council, item):
    stranger = grant(staff(other_council, roles=(), username="stranger"), VIEW)
    client = signed_in(client, stranger)

    assert client.get(url("item:inspect", item.pk)).status_code == 404
    assert client.get(url("item:allocate", item.pk)).status_code in (302, 404)
    assert list(client.get(url("item:index")).context["object_list"]) == []


def test_someone_limited_to_fund_groups_sees_only_items_meant_for_their_funds(
    client, person, council, item
):
    reader = person(VIEW)
    group = FundGroupFactory(organisation=council, name="Parking")
    Membership.objects.get(user=reader).fund_groups.add(group)

    client = signed_in(client, reader)

    assert client.get(url("item:inspect", item.pk)).status_code == 404
    assert list(client.get(url("item:index")).context["object_list"]) == []


def test_the_items_screens_are_refused_without_the_right(client, person, council, ctax, item, true):
    nobody = person()
    # Even limited to fund groups that do not include the item's fund: refused, not "not found".
    group = FundGroupFactory(organisation=council, name="Parking")
    Membership.objects.get(user=nobody).fund_groups.add(group)
    client = signed_in(client, nobody)

    assert_permission_denied(client.get(url("item:index")))
    assert_permission_denied(client.get(url("item:ageing")))
    assert_permission_denied(client.get(url("item:inspect", item.pk)))
    assert_permission_denied(client.get(url("item:allocate", item.pk)))
    assert_permission_denied(client.post(url("item:run", item.pk)))
    assert_permission_denied(
        client.post(url("item:allocate", item.pk), parts_data((ctax, true, "50.00")))
    )


# An item's page and notes ---------------------------------------------------------------------


def test_an_items_page_shows_it_as_it_arrived_and_what_is_left(client, person, item, true):
    response = signed_in(client, person(VIEW)).get(url("item:inspect", item.pk))

    content = response.content.decode()
    assert response.status_code == 200
    for shown in (mistyped(true), "John Bold", "CTAX", item.reason, "£50.00", "Telephone"):
        assert shown in content
    assert "The rules have not looked at this item yet." in content
    assert "No notes yet." in content
    assert "Add the note" not in content  # only for those who may change items
    assert url("item:allocate", item.pk) not in content


def test_staff_who_may_change_items_add_notes(client, person, item):
    client = signed_in(client, person(VIEW, CHANGE))

    response = client.post(url("item:note", item.pk), {"text": "Rang the payer."})

    assert response.status_code == 302
    assert SuspenseNote.objects.get(item=item).text == "Rang the payer."
    assert "Rang the payer." in client.get(url("item:inspect", item.pk)).content.decode()


def test_a_note_needs_the_right_to_change_items(client, person, item):
    response = signed_in(client, person(VIEW)).post(url("item:note", item.pk), {"text": "x"})

    assert_permission_denied(response)
    assert not SuspenseNote.objects.exists()


def test_trying_the_rules_on_one_item_says_what_they_did(
    client, person, council, item, department, finance_admin, true
):
    department(CTAX=[true])
    suspense_rule(
        council,
        name="Typo",
        actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}],
        switched_on_by=finance_admin,
    )

    response = signed_in(client, person(VIEW, CHANGE)).post(url("item:run", item.pk))

    assert response.status_code == 302
    (said,) = messages_of(response)
    assert said.startswith(f"£50.00 moved to CTAX {true}.")
    assert SuspenseAllocation.objects.get(item=item).rule_name == "Typo"


def test_running_the_rules_on_every_open_item_asks_first_then_reports(
    client, person, council, item, department, finance_admin, true
):
    department(CTAX=[true])
    suspense_rule(
        council,
        name="Typo",
        actions=[{"kind": "correct_one_edit"}, {"kind": "look_up"}],
        switched_on_by=finance_admin,
    )
    client = signed_in(client, person(VIEW, CHANGE))

    asked = client.get(url("item:run_all"))
    response = client.post(url("item:run_all"))

    assert "1 item is still open." in asked.content.decode()
    assert "Typo" in asked.content.decode()
    assert messages_of(response) == [
        "The rules looked at 1 open items and allocated 1 (£50.00); 0 are left for a person."
    ]


# Allocating ---------------------------------------------------------------------------------


def test_the_allocation_screen_shows_suggestions_to_use(
    client, person, council, ctax, item, department, true
):
    # The payer paid another account before, the same amount.
    earlier = account(ctax, "7654321")
    department(CTAX=[true, earlier])
    payment_take(
        organisation=council,
        channel="bank",
        method="bank_transfer",
        lines=[LineInput(ctax, 5_000, account_reference=earlier)],
        payer=Payer(name="john bold"),
    )
    client = signed_in(client, person(VIEW, ALLOCATE))

    response = client.get(url("item:allocate", item.pk))

    content = response.content.decode()
    assert response.status_code == 200
    assert f'data-suggestion="CTAX {true}"' in content
    assert "swapped" in content and "on the department&#x27;s list" in content
    assert f'data-suggestion="CTAX {earlier}"' in content
    assert "John Bold paid the same amount to this account once" in content
    assert "The rules say: No rule applies to this item." in content

    chosen = client.get(url("item:allocate", item.pk), {"fund": ctax.pk, "reference": true})
    first = chosen.context["parts"].forms[0]
    assert (first["fund_code"].value(), first["reference"].value(), first["amount"].value()) == (
        ctax.pk,
        true,
        "50.00",
    )


def parts_data(*parts, note="Found on the payer's letter."):
    data = {
        "parts-TOTAL_FORMS": str(max(len(parts), 2)),
        "parts-INITIAL_FORMS": "0",
        "parts-MIN_NUM_FORMS": "0",
        "parts-MAX_NUM_FORMS": "1000",
        "note": note,
    }
    for number, (fund, reference, amount) in enumerate(parts):
        data |= {
            f"parts-{number}-fund_code": str(fund.pk),
            f"parts-{number}-reference": reference,
            f"parts-{number}-amount": amount,
        }
    return data


def test_a_person_splits_an_item_and_is_told_what_was_posted(
    client, person, council, ctax, parking, item, true
):
    client = signed_in(client, person(VIEW, ALLOCATE))

    response = client.post(
        url("item:allocate", item.pk), parts_data((ctax, true, "30.00"), (parking, "P9", "20.00"))
    )

    assert response.status_code == 302
    assert response.url == url("item:inspect", item.pk)
    assert messages_of(response) == [f"Allocated: £30.00 to CTAX {true}, £20.00 to PARK P9."]
    assert set(Journal.objects.values_list("status", flat=True)) == {JournalStatus.POSTED}


def test_parts_that_do_not_add_up_are_shown_back_and_nothing_is_written(
    client, person, ctax, item, true
):
    client = signed_in(client, person(VIEW, ALLOCATE))

    response = client.post(url("item:allocate", item.pk), parts_data((ctax, true, "49.00")))

    assert response.status_code == 200
    assert "The parts add up to £49.00, but £50.00 of this item is in suspense" in (
        response.content.decode()
    )
    assert not Journal.objects.exists()


def test_a_part_missing_its_fund_is_pointed_out(client, person, ctax, item):
    client = signed_in(client, person(VIEW, ALLOCATE))
    data = parts_data(note="x") | {"parts-0-reference": "123", "parts-0-amount": "50.00"}

    response = client.post(url("item:allocate", item.pk), data)

    assert response.status_code == 200
    assert "Choose the fund for this part." in response.content.decode()


def test_allocating_needs_the_right_to_allocate(client, person, ctax, item, true):
    client = signed_in(client, person(VIEW, CHANGE))

    assert_permission_denied(client.get(url("item:allocate", item.pk)))
    assert_permission_denied(
        client.post(url("item:allocate", item.pk), parts_data((ctax, true, "50.00")))
    )
    assert not Journal.objects.exists()


def test_an_item_with_nothing_left_is_not_offered_for_allocation(client, person, ctax, item, true):
    client = signed_in(client, person(VIEW, ALLOCATE))
    client.post(url("item:allocate", item.pk), parts_data((ctax, true, "50.00")))

    response = client.get(url("item:allocate", item.pk))

    assert response.status_code == 302
    assert "has nothing left to allocate" in messages_of(response)[-1]


# Ageing ---------------------------------------------------------------------------------------


def test_the_ageing_report_counts_what_is_open_by_fund_and_age(
    client, person, ctax, suspense_fund, taken
):
    now = timezone.now()
    for days, amount in ((1, 1_000), (10, 2_000), (12, 3_000), (100, 4_000)):
        item = taken(ctax, "12345675", amount)
        SuspenseItem.objects.filter(pk=item.pk).update(
            received_at=now - datetime.timedelta(days=days)
        )

    response = signed_in(client, person(VIEW)).get(url("item:ageing"))

    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row[0].counts == [1, 2, 0, 0, 1]
    assert row[0].amounts == [1_000, 5_000, 0, 0, 4_000]
    content = response.content.decode()
    assert "4 · £100.00" in content
    assert "?status=open&amp;age=month" in content


# Rules ---------------------------------------------------------------------------------------


def rule_data(*, name="Prefix", conditions=(), actions=()):
    data = {"name": name, "description": ""}
    for prefix, rows in (("conditions", conditions), ("actions", actions)):
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for number, fields in enumerate(rows):
            data |= {f"{prefix}-{number}-{key}": value for key, value in fields.items()}
            data |= {f"{prefix}-{number}-ORDER": str(number + 1), f"{prefix}-{number}-id": ""}
    return data


STRIP_REF = {"kind": "strip_prefix", "value": "REF", "replacement": "", "length": ""}
CHANNEL_BANK = {
    "group": "1",
    "field": "channel",
    "operator": "equals",
    "value": "bank",
}


def test_a_finance_administrator_writes_a_rule_with_conditions_and_actions(
    client, person, council, ctax
):
    client = signed_in(client, person(*RULES))

    response = client.post(
        url("rule:add"),
        rule_data(
            conditions=[CHANNEL_BANK],
            actions=[
                STRIP_REF,
                {"kind": "set_fund", "fund_code": str(ctax.pk), "value": "", "length": ""},
            ],
        ),
    )

    assert response.status_code == 302, response.context["form"].errors
    rule = SuspenseRule.objects.get(organisation=council)
    assert not rule.is_enabled  # off until someone switches it on
    assert [str(condition) for condition in rule.conditions.all()] == ['Channel equals "bank"']
    assert [str(action) for action in rule.actions.all()] == [
        "Remove a prefix: REF",
        "Use fund CTAX",
    ]


def test_a_rule_that_cannot_work_is_refused_with_the_reason(client, person, council):
    client = signed_in(client, person(*RULES))

    response = client.post(
        url("rule:add"),
        rule_data(
            conditions=[{**CHANNEL_BANK, "operator": "matches", "value": "(unclosed"}],
            actions=[{"kind": "find_fund"}, {"kind": "set_fund"}],
        ),
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "The regular expression is not valid" in content
    assert "Choose the fund the money goes to." in content
    assert not SuspenseRule.objects.exists()


def test_a_rule_is_offered_only_its_own_councils_funds(
    client, person, council, other_council, ctax, suspense_fund
):
    theirs = FundCodeFactory(
        organisation=other_council,
        code="THEIRS",
        default_vat_rate=VatRateFactory(organisation=other_council),
    )
    client = signed_in(client, person(*RULES))

    page = client.get(url("rule:add"))
    response = client.post(
        url("rule:add"),
        rule_data(actions=[{"kind": "set_fund", "fund_code": str(theirs.pk)}]),
    )

    offered = page.context["form"].formsets["actions"].empty_form.fields["fund_code"].queryset
    assert set(offered) == {ctax}  # not the suspense fund, nor another council's
    assert response.status_code == 200
    assert not SuspenseRule.objects.exists()


def test_the_dry_run_shows_what_the_rule_would_move_and_moves_nothing(
    client, person, council, ctax, suspense_fund, taken, department, true
):
    department(CTAX=[true])
    prefixed = taken(ctax, f"REF {true}", 7_000)
    untouched = taken(ctax, "99999999", 1_000)
    rule = suspense_rule(
        council,
        name="Prefix",
        conditions=[{"field": "reference", "operator": "starts_with", "value": "REF"}],
        actions=[{"kind": "strip_prefix", "value": "REF"}, {"kind": "look_up"}],
    )

    response = signed_in(client, person(*RULES)).get(url("rule:preview", rule.pk))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert [row.item for row in preview.moves] == [prefixed]
    assert untouched not in [row.item for row in preview.moves + preview.no_match]
    content = response.content.decode()
    assert f"CTAX {true}, known to the department" in content
    assert "Switch on" in content
    assert not Journal.objects.exists()


def test_switching_a_rule_on_from_its_dry_run_puts_it_in_that_persons_name(client, person, council):
    rule = suspense_rule(council, name="Prefix")
    admin = person(*RULES)
    client = signed_in(client, admin)

    response = client.post(url("rule:switch", rule.pk), {"switch": "on"})

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.is_enabled, rule.enabled_by) == (True, admin)
    assert "is switched on" in messages_of(response)[0]

    client.post(url("rule:switch", rule.pk), {"switch": "off"})
    rule.refresh_from_db()
    assert (rule.is_enabled, rule.enabled_by) == (False, None)


def test_editing_a_switched_on_rule_switches_it_off(client, person, council, finance_admin):
    rule = suspense_rule(council, name="Prefix", switched_on_by=finance_admin)
    client = signed_in(client, person(*RULES))

    response = client.post(
        url("rule:edit", rule.pk), rule_data(name="Prefix, changed", actions=[STRIP_REF])
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.is_enabled) == ("Prefix, changed", False)
    assert any("was switched off because it changed" in said for said in messages_of(response))


def test_a_rules_page_says_what_it_does_in_words(client, person, council, finance_admin):
    rule = suspense_rule(
        council,
        name="Prefix",
        conditions=[
            {"field": "channel", "operator": "equals", "value": "bank", "group": 1},
            {"field": "amount", "operator": "less_than", "value": "100", "group": 1},
            {"field": "reference", "operator": "is_blank", "group": 2},
        ],
        actions=[{"kind": "strip_prefix", "value": "REF, A/C"}],
        switched_on_by=finance_admin,
    )

    response = signed_in(client, person("suspense.view_suspenserule")).get(
        url("rule:inspect", rule.pk)
    )

    content = response.content.decode()
    assert "Channel equals &quot;bank&quot; and Amount paid is less than £100.00" in content
    assert "or Reference is blank" in content
    assert "Remove a prefix: REF, A/C" in content
    assert "Yes, by" in content


def test_only_those_who_may_change_rules_switch_them(client, person, council):
    rule = suspense_rule(council, name="Prefix")
    client = signed_in(client, person("suspense.view_suspenserule"))

    assert client.get(url("rule:preview", rule.pk)).status_code == 200
    assert_permission_denied(client.post(url("rule:switch", rule.pk), {"switch": "on"}))
    assert_permission_denied(client.get(url("rule:add")))
    rule.refresh_from_db()
    assert not rule.is_enabled


def test_rules_are_put_in_order_among_the_councils_own(client, person, council, other_council):
    first = suspense_rule(council, name="First")
    second = suspense_rule(council, name="Second")
    theirs = suspense_rule(other_council, name="Theirs")
    client = signed_in(client, person(*RULES))

    moved = client.post(url("rule:reorder", second.pk) + "?position=0")
    refused = client.post(url("rule:reorder", theirs.pk) + "?position=0")

    assert moved.status_code == 200
    assert list(SuspenseRule.objects.filter(organisation=council).order_by("sort_order", "pk")) == [
        second,
        first,
    ]
    assert refused.status_code == 404
