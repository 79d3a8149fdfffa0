"""factory_boy factories for the domain: one council's configuration, built as needed."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from backoffice.accounts.roles import FINANCE_ADMINISTRATOR
from backoffice.funds.models import (
    Department,
    FundCode,
    FundGroup,
    ReferenceRule,
    Service,
    VatCategory,
    VatRate,
    VatRatePeriod,
)
from backoffice.tenancy.models import Membership, Organisation


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"council-{n}")
    name = factory.Sequence(lambda n: f"Council {n} Borough Council")
    address_line_1 = "Town Hall"
    town = "Anytown"
    postcode = "AN1 1AA"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@council.example")
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)


def staff(organisation, *, roles=(FINANCE_ADMINISTRATOR,), **kwargs):
    """A member of staff of ``organisation`` holding ``roles``."""
    user = UserFactory(roles=list(roles), **kwargs)
    MembershipFactory(user=user, organisation=organisation)
    return user


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"DEPT{n}")
    name = factory.Sequence(lambda n: f"Department {n}")


class VatRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VatRate
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"V{n}")
    name = "Standard rate"
    category = VatCategory.STANDARD

    @factory.post_generation
    def percentages(self, create, extracted, **kwargs):
        """``percentages=[(date, "20"), ...]``; a standard rate gets 20% from 2011 by default."""
        if not create:
            return
        if extracted is None:
            extracted = (
                [(datetime.date(2011, 1, 4), "20")]
                if self.category in (VatCategory.STANDARD, VatCategory.REDUCED)
                else []
            )
        for effective_from, percentage in extracted:
            VatRatePeriod.objects.create(
                vat_rate=self, effective_from=effective_from, percentage=Decimal(percentage)
            )


class ReferenceRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferenceRule

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")


def mod11_rule(organisation, **kwargs):
    """An eight-digit account with a modulus 11 check digit (weights 7 to 1, subtract)."""
    defaults = {
        "name": "Account number (mod 11)",
        "character_set": "digits",
        "min_length": 8,
        "max_length": 8,
        "check_digit_algorithm": "weighted",
        "weights": "7,6,5,4,3,2,1",
        "modulus": 11,
        "subtract_from_modulus": True,
        "result_substitutions": "11=0",
    }
    return ReferenceRuleFactory(organisation=organisation, **{**defaults, **kwargs})


class FundCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundCode

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"F{n:03d}")
    name = factory.Sequence(lambda n: f"Fund {n}")
    default_vat_rate = factory.SubFactory(
        VatRateFactory,
        organisation=factory.SelfAttribute("..organisation"),
        category=VatCategory.OUTSIDE_SCOPE,
        name="Outside the scope",
    )
    allowed_channels = factory.LazyFunction(lambda: ["online", "telephone"])


class FundGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundGroup

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    fund_code = factory.SubFactory(
        FundCodeFactory, organisation=factory.SelfAttribute("..organisation")
    )


def integration(organisation, *, plugin, key=None, settings=None, is_enabled=True, title=None):
    """A council's integration of a plugin, made through the service (secrets encrypted)."""
    from plugins.services import integration_create

    return integration_create(
        organisation=organisation,
        plugin=plugin,
        key=key or plugin.replace("_", "-"),
        title=title or plugin.replace("_", " ").title(),
        settings=settings or {},
        is_enabled=is_enabled,
    )


def suspense_rule(organisation, *, name, conditions=(), actions=(), switched_on_by=None, **kwargs):
    """A suspense rule, last in the council's order, with ``conditions`` and ``actions`` given
    as dicts of their fields (made and checked by the service); switched on, through the
    service, by ``switched_on_by`` if given."""
    from backoffice.suspense.services import suspense_rule_create, suspense_rule_switch_on

    rule = suspense_rule_create(
        organisation=organisation, name=name, conditions=conditions, actions=actions, **kwargs
    )
    if switched_on_by is not None:
        rule = suspense_rule_switch_on(rule=rule, user=switched_on_by)
    return rule
