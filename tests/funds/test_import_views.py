"""The spreadsheet import and export screens for fund codes and services.

A finance administrator uploads a file, sees the dry run (what would be added and changed,
or each problem by line) with nothing saved, and only then confirms. Exports carry the
current council's rows and no other council's. Staff who may only read fund codes may
export but not import.
"""

import html
import re
from uuid import uuid4

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.tmp_storages import MediaStorage

from backoffice.accounts.roles import AUDITOR
from backoffice.funds.models import FundCode, Service
from backoffice.funds.services import read_spreadsheet
from backoffice.funds.views import UPLOADS_SESSION_KEY
from tests.factories import FundCodeFactory, ServiceFactory, VatRateFactory, staff

NEW_FUND_CODES = (
    "code,name,default_vat_rate,allowed_channels\nLIC,Licensing,S,online\nMKT,Markets,S,bank\n"
)


@pytest.fixture(autouse=True)
def uploads_kept_in_a_temporary_folder(settings, tmp_path):
    """A dry run keeps the uploaded file in the media folder until it is confirmed."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def standard_rate(council):
    return VatRateFactory(organisation=council, code="S")


def upload(client, url_name, content, filename="fund-codes.csv"):
    file = SimpleUploadedFile(filename, content.encode("utf-8"), content_type="text/csv")
    return client.post(reverse(url_name), {"import_file": file})


def confirm_fields(response):
    """The hidden fields of the confirm form, read from the page as a browser would."""
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', response.text))
    return {name: html.unescape(fields[name]) for name in ("upload", "filename")}


def text(response):
    return html.unescape(response.text)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_refused(response):
    """Wagtail answers a forbidden admin page with the dashboard and a message, not a 403."""
    assert response.status_code == 302
    assert response.url == reverse("wagtailadmin_home")
    assert any("permission" in message for message in messages_of(response))


def our_codes(council):
    return set(FundCode.objects.filter(organisation=council).values_list("code", flat=True))


def keep_upload(client, content: bytes) -> str:
    """As a dry run does: the file in the media folder, its name in this session."""
    storage = MediaStorage(read_mode="rb")
    storage.save(content)
    session = client.session
    session[UPLOADS_SESSION_KEY] = [storage.name]
    session.save()
    return storage.name


# The import page --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "title"),
    [("funds_fundcode:import", "Import fund codes"), ("funds_service:import", "Import services")],
)
def test_the_import_page_asks_for_a_spreadsheet(admin_client, url_name, title):
    response = admin_client.get(reverse(url_name))

    assert response.status_code == 200
    assert title in response.text
    assert 'type="file" name="import_file"' in response.text


def test_uploading_a_good_file_shows_what_would_be_added_and_saves_nothing(
    admin_client, council, standard_rate
):
    response = upload(admin_client, "funds_fundcode:import", NEW_FUND_CODES)

    assert response.status_code == 200
    assert "fund-codes.csv is ready to import" in text(response)
    assert "2 rows checked: 2 will be added, 0 changed and 0 left as they are" in text(response)
    assert "Nothing has been saved yet" in text(response)
    assert our_codes(council) == set()


def test_confirming_the_dry_run_saves_the_rows_and_returns_to_the_listing_with_a_message(
    admin_client, council, standard_rate
):
    dry_run = upload(admin_client, "funds_fundcode:import", NEW_FUND_CODES)

    response = admin_client.post(
        reverse("funds_fundcode:import"), confirm_fields(dry_run), follow=True
    )

    assert response.redirect_chain == [(reverse("funds_fundcode:index"), 302)]
    assert our_codes(council) == {"LIC", "MKT"}
    assert "Imported fund-codes.csv: 2 added, 0 changed, 0 unchanged." in [
        str(message) for message in response.context["messages"]
    ]


def test_confirming_services_saves_them_in_this_council(admin_client, council):
    FundCodeFactory(organisation=council, code="PARK")
    dry_run = upload(
        admin_client,
        "funds_service:import",
        "slug,name,fund_code,pricing,price\nbin,Wheelie bin,PARK,fixed,25.50\n",
        filename="services.csv",
    )

    response = admin_client.post(reverse("funds_service:import"), confirm_fields(dry_run))

    assert response.status_code == 302
    service = Service.objects.get(slug="bin")
    assert (service.organisation, service.price_pence) == (council, 2550)


def test_a_file_with_bad_rows_lists_each_problem_by_line_saves_nothing_and_offers_no_confirm(
    admin_client, council, standard_rate, tmp_path
):
    content = (
        "code,name,default_vat_rate,allowed_channels\n"
        "LIC,Licensing,S,online\n"
        "BAD1,Unknown VAT,X9,online\n"
        "BAD2,Unknown channel,S,fax\n"
    )

    response = upload(admin_client, "funds_fundcode:import", content)

    assert response.status_code == 200
    assert "fund-codes.csv was not imported: 2 problems to put right" in text(response)
    problems = [(problem.line, problem.column) for problem in response.context["outcome"].problems]
    assert problems == [(3, "default_vat_rate"), (4, "allowed_channels")]
    assert "There is no VAT rate 'X9' in this council." in text(response)
    assert "<td>3</td><td>default_vat_rate</td>" in response.text
    assert "<td>4</td><td>allowed_channels</td>" in response.text
    assert response.context.get("confirm_form") is None
    assert "Confirm import" not in response.text
    assert our_codes(council) == set()
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_form(admin_client, council):
    response = upload(admin_client, "funds_fundcode:import", NEW_FUND_CODES, "fund-codes.txt")

    assert response.status_code == 200
    assert "'fund-codes.txt' is not a .csv or .xlsx file." in text(response)
    assert "Confirm import" not in response.text
    assert our_codes(council) == set()


def test_a_confirmation_that_no_longer_imports_cleanly_shows_the_problem_and_saves_nothing(
    admin_client, council, standard_rate
):
    dry_run = upload(
        admin_client,
        "funds_fundcode:import",
        "code,name,default_vat_rate,is_suspense\nSUS2,Suspense,S,yes\n",
    )
    FundCodeFactory(organisation=council, code="SUS1", is_suspense=True)

    response = admin_client.post(reverse("funds_fundcode:import"), confirm_fields(dry_run))

    assert response.status_code == 200
    assert "This council already has a suspense fund." in text(response)
    assert our_codes(council) == {"SUS1"}


# Confirmations this session did not earn ----------------------------------------------


def test_a_confirmation_naming_an_upload_nobody_made_is_refused(admin_client, council):
    response = admin_client.post(
        reverse("funds_fundcode:import"),
        {"upload": uuid4().hex, "filename": "fund-codes.csv"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("funds_fundcode:import"), 302)]
    assert "That upload has expired: choose the file again." in [
        str(message) for message in response.context["messages"]
    ]
    assert our_codes(council) == set()


def test_a_confirmation_naming_another_sessions_upload_is_refused(
    admin_client, council, standard_rate
):
    """The file exists, checked in someone else's dry run, but this session never saw it."""
    storage = MediaStorage(read_mode="rb")
    storage.save(NEW_FUND_CODES.encode("utf-8"))

    response = admin_client.post(
        reverse("funds_fundcode:import"), {"upload": storage.name, "filename": "fund-codes.csv"}
    )

    assert response.status_code == 302
    assert response.url == reverse("funds_fundcode:import")
    assert "That upload has expired: choose the file again." in messages_of(response)
    assert our_codes(council) == set()


def test_a_confirmation_whose_upload_is_not_a_name_the_dry_run_gives_is_refused(
    admin_client, council
):
    response = admin_client.post(
        reverse("funds_fundcode:import"),
        {"upload": "../../settings.py", "filename": "fund-codes.csv"},
    )

    assert response.status_code == 302
    assert "That upload has expired: choose the file again." in messages_of(response)


def test_a_confirmation_whose_filename_is_not_a_spreadsheet_is_refused_with_a_message(
    admin_client, council, standard_rate
):
    name = keep_upload(admin_client, NEW_FUND_CODES.encode("utf-8"))

    response = admin_client.post(
        reverse("funds_fundcode:import"), {"upload": name, "filename": "fund-codes.txt"}
    )

    assert response.status_code in (200, 302)
    assert our_codes(council) == set()


def test_a_confirmation_whose_kept_file_has_gone_asks_for_the_file_again(
    admin_client, council, tmp_path
):
    name = keep_upload(admin_client, NEW_FUND_CODES.encode("utf-8"))
    for path in tmp_path.rglob(name):
        path.unlink()

    response = admin_client.post(
        reverse("funds_fundcode:import"), {"upload": name, "filename": "fund-codes.csv"}
    )

    assert response.status_code == 302
    assert "That upload has expired: choose the file again." in messages_of(response)


# Export ------------------------------------------------------------------------------

EXPORTS = {
    "fund codes": ("funds_fundcode:export", FundCodeFactory, "code", "fundcodes"),
    "services": ("funds_service:export", ServiceFactory, "slug", "services"),
}


@pytest.fixture
def rows_in_both_councils(council, other_council):
    """One fund code and one service in each council, told apart by code and slug."""
    for organisation, name in ((council, "ours"), (other_council, "theirs")):
        fund_code = FundCodeFactory(organisation=organisation, code=name.upper())
        ServiceFactory(organisation=organisation, slug=name, fund_code=fund_code)


def exported_keys(response, column, filename):
    return [row[column] for row in read_spreadsheet(response.content, filename).dict]


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("url_name", "factory", "column", "file_stem"), EXPORTS.values(), ids=EXPORTS.keys()
)
def test_an_export_is_an_attachment_of_this_councils_rows_only(
    admin_client, rows_in_both_councils, url_name, factory, column, file_stem, extension
):
    response = admin_client.get(reverse(url_name), {"format": extension})

    assert response.status_code == 200
    filename = f"barsetshire-{file_stem}.{extension}"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert [key.lower() for key in exported_keys(response, column, filename)] == ["ours"]


def test_an_export_in_an_unknown_format_is_csv(admin_client, rows_in_both_councils):
    response = admin_client.get(reverse("funds_fundcode:export"), {"format": "pdf"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert exported_keys(response, "code", "fund-codes.csv") == ["OURS"]


def test_staff_of_another_council_export_their_councils_rows_not_this_ones(
    client, other_council, rows_in_both_councils
):
    client.force_login(staff(other_council, username="wessex.finance"))

    response = client.get(reverse("funds_fundcode:export"), {"format": "csv"})

    assert exported_keys(response, "code", "fund-codes.csv") == ["THEIRS"]


# Who may import ---------------------------------------------------------------------


@pytest.fixture
def auditor_client(client, council):
    client.force_login(staff(council, roles=[AUDITOR], username="auditor"))
    return client


@pytest.mark.parametrize("url_name", ["funds_fundcode:import", "funds_service:import"])
def test_an_auditor_is_refused_the_import_page(auditor_client, url_name):
    assert_refused(auditor_client.get(reverse(url_name)))


def test_an_auditor_cannot_import_by_posting_a_file(auditor_client, council, standard_rate):
    response = upload(auditor_client, "funds_fundcode:import", NEW_FUND_CODES)

    assert_refused(response)
    assert our_codes(council) == set()


def test_an_auditor_cannot_confirm_an_upload(auditor_client, council, standard_rate):
    name = keep_upload(auditor_client, NEW_FUND_CODES.encode("utf-8"))

    response = auditor_client.post(
        reverse("funds_fundcode:import"), {"upload": name, "filename": "fund-codes.csv"}
    )

    assert_refused(response)
    assert our_codes(council) == set()


@pytest.mark.parametrize("url_name", ["funds_fundcode:export", "funds_service:export"])
def test_an_auditor_may_export(auditor_client, rows_in_both_councils, url_name):
    response = auditor_client.get(reverse(url_name), {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
