"""Writing departmental files: atomically, once a day unless re-run, recorded, one failure alone.

Two departmental plugins take part: the built-in ``department_files`` and a
recording double registered in the plugin manager for these tests (a plugin
shipped as a package would be found the same way), which can be told to fail.
"""

import datetime
import hashlib
import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.utils import timezone
from django_tasks import TaskResultStatus

from backoffice.payments.services import LineInput, payment_take
from plugins import hookimpl, manager
from plugins.exports import export_folder, exports_run, exports_run_task
from plugins.models import ExportRun
from plugins.types import ExportFile, PluginInfo, PluginKind
from tests.factories import FundCodeFactory, integration

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 14)


class RecordingDepartment:
    """A departmental plugin for these tests: two small files a day, or a failure on demand."""

    def __init__(self):
        self.fail = False
        self.filenames = ("first.csv", "second.csv")

    @hookimpl
    def ims_plugin_info(self):
        return PluginInfo(
            name="recording_department",
            title="Recording department",
            kinds=(PluginKind.DEPARTMENTAL,),
        )

    @hookimpl
    def ims_export_files(self, integration, day):
        if self.fail:
            raise RuntimeError("the department's file server is full")
        return [ExportFile(name, f"{name} for {day}\n".encode(), rows=1) for name in self.filenames]


@pytest.fixture
def recording_plugin():
    plugin = RecordingDepartment()
    manager.reload().register(plugin, name="recording_department")
    manager._installed.cache_clear()
    yield plugin
    manager.reload()


@pytest.fixture
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings.EXPORT_ROOT


@pytest.fixture
def recording(council, recording_plugin):
    return integration(council, plugin="recording_department", key="recording", title="Recording")


@pytest.fixture
def department(council, parking):
    return integration(
        council,
        plugin="department_files",
        key="parking-files",
        title="Parking files",
        settings={"fund_codes": ["PARK"], "exports": ["payment_csv"], "file_prefix": "P_"},
    )


def folder_contents(path):
    return sorted(str(item.relative_to(path)) for item in path.rglob("*") if item.is_file())


def test_each_integrations_files_go_in_its_own_folder_and_the_run_is_recorded(
    council, recording, export_root
):
    (outcome,) = exports_run(day=DAY)

    folder = export_root / "barsetshire" / "recording"
    assert export_folder(recording) == folder
    assert outcome.status == "written"
    assert outcome.paths == [folder / "first.csv", folder / "second.csv"]
    assert (folder / "first.csv").read_bytes() == b"first.csv for 2025-03-14\n"
    assert folder_contents(folder) == ["first.csv", "second.csv"]  # no temporary files left
    run = ExportRun.objects.get()
    assert (run.organisation, run.integration, run.day, run.attempt) == (council, recording, DAY, 1)
    assert run.files[0] == {
        "filename": "first.csv",
        "sha256": hashlib.sha256(b"first.csv for 2025-03-14\n").hexdigest(),
        "rows": 1,
        "bytes": 25,
    }
    assert str(outcome) == "barsetshire/recording 2025-03-14: wrote first.csv, second.csv"


def test_a_day_is_never_written_twice(recording, export_root):
    exports_run(day=DAY)
    first = export_root / "barsetshire" / "recording" / "first.csv"
    first.write_bytes(b"picked up and changed by the department\n")

    (outcome,) = exports_run(day=DAY)

    assert outcome.status == "skipped"
    assert first.read_bytes() == b"picked up and changed by the department\n"
    assert ExportRun.objects.count() == 1


def test_a_rerun_writes_the_day_again_and_keeps_the_earlier_files(
    recording, recording_plugin, export_root
):
    exports_run(day=DAY)
    folder = export_root / "barsetshire" / "recording"
    (folder / "first.csv").write_bytes(b"the first attempt\n")
    recording_plugin.filenames = ("first.csv",)

    (outcome,) = exports_run(day=DAY, rerun=True)

    assert outcome.status == "written"
    assert (folder / "first.csv").read_bytes() == b"first.csv for 2025-03-14\n"
    assert (folder / "superseded/2025-03-14/attempt-1/first.csv").read_bytes() == (
        b"the first attempt\n"
    )
    first_run, rerun = ExportRun.objects.order_by("attempt")
    assert (rerun.attempt, rerun.rerun_of) == (2, first_run)
    assert str(outcome).endswith("(re-run, attempt 2)")


def test_a_second_first_run_of_a_day_is_refused_by_the_database(council, recording):
    ExportRun.objects.create(organisation=council, integration=recording, day=DAY, folder="x")

    with pytest.raises(IntegrityError):
        ExportRun.objects.create(organisation=council, integration=recording, day=DAY, folder="x")


def test_a_write_failing_midway_leaves_no_file_and_no_run(recording, export_root, monkeypatch):
    real_fsync, calls = os.fsync, []

    def disk_full_on_the_second_file(descriptor):
        calls.append(descriptor)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", disk_full_on_the_second_file)

    (outcome,) = exports_run(day=DAY)

    assert outcome.status == "failed"
    assert "No space left on device" in outcome.message
    assert folder_contents(export_root) == []
    assert not ExportRun.objects.exists()


def test_a_plugin_that_raises_leaves_no_file_and_no_run(recording, recording_plugin, export_root):
    recording_plugin.fail = True

    (outcome,) = exports_run(day=DAY)

    assert (outcome.status, outcome.message) == ("failed", "the department's file server is full")
    assert folder_contents(export_root) == []
    assert not ExportRun.objects.exists()
    # Put right, the day is written as if nothing had happened.
    recording_plugin.fail = False
    assert exports_run(day=DAY)[0].status == "written"


def test_a_file_name_that_is_not_a_plain_name_is_refused(recording, recording_plugin, export_root):
    recording_plugin.filenames = ("good.csv", "../../elsewhere.csv")

    (outcome,) = exports_run(day=DAY)

    assert outcome.status == "failed"
    assert "'../../elsewhere.csv' is not a plain file name" in outcome.message
    assert folder_contents(export_root.parent) == []


def test_one_integration_failing_does_not_stop_the_others(
    council, recording, recording_plugin, department, export_root
):
    recording_plugin.fail = True

    outcomes = {outcome.integration.key: outcome for outcome in exports_run(day=DAY)}

    assert outcomes["recording"].status == "failed"
    assert outcomes["parking-files"].status == "written"
    assert (export_root / "barsetshire/parking-files/P_PARK_20250314.csv").exists()


def test_only_enabled_integrations_of_active_councils_are_written(
    council, other_council, recording_plugin, export_root
):
    integration(council, plugin="recording_department", key="off", is_enabled=False)
    integration(other_council, plugin="recording_department", key="theirs")
    other_council.is_active = False
    other_council.save()

    assert exports_run(day=DAY) == []


def test_one_council_only(council, other_council, recording, recording_plugin, export_root):
    integration(other_council, plugin="recording_department", key="theirs")

    outcomes = exports_run(organisation=other_council, day=DAY)

    assert [outcome.integration.organisation for outcome in outcomes] == [other_council]


def test_the_command_writes_yesterday_and_says_what_it_wrote(
    council, department, parking, export_root
):
    payment = payment_take(
        organisation=council,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(parking, 1_200, account_reference="PCN1")],
    )
    today = timezone.localdate(payment.completed_at)
    out = io.StringIO()

    call_command("run_exports", "--day", today.isoformat(), stdout=out)

    written = export_root / "barsetshire/parking-files" / f"P_PARK_{today:%Y%m%d}.csv"
    assert out.getvalue().splitlines() == [
        f"barsetshire/parking-files {today}: wrote P_PARK_{today:%Y%m%d}.csv",
        f"  {written}",
    ]
    assert payment.receipt_number in written.read_text()

    out = io.StringIO()
    call_command("run_exports", stdout=out)  # yesterday, by default
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert f"wrote P_PARK_{yesterday:%Y%m%d}.csv" in out.getvalue()


def test_the_command_reruns_a_day_of_one_council(council, department, export_root):
    call_command("run_exports", "--day", "2025-03-14", stdout=io.StringIO())
    out = io.StringIO()

    call_command("run_exports", "--day", "2025-03-14", stdout=out)
    assert "already written; use --rerun to write it again" in out.getvalue()

    out = io.StringIO()
    call_command(
        "run_exports", "--day", "2025-03-14", "--council", "barsetshire", "--rerun", stdout=out
    )
    assert "(re-run, attempt 2)" in out.getvalue()


def test_the_command_refuses_what_it_cannot_read(council):
    with pytest.raises(CommandError, match="--day 14/03/2025 is not a date written as YYYY-MM-DD"):
        call_command("run_exports", "--day", "14/03/2025")
    with pytest.raises(CommandError, match="There is no council with the code 'nowhere'"):
        call_command("run_exports", "--council", "nowhere")


def test_the_command_fails_when_an_integration_failed_after_writing_the_rest(
    council, recording, recording_plugin, department, export_root
):
    recording_plugin.fail = True
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 of 2 integrations failed"):
        call_command("run_exports", "--day", "2025-03-14", stdout=out, stderr=err)

    assert "barsetshire/recording 2025-03-14: FAILED: the department's file server is full" in (
        err.getvalue()
    )
    assert "wrote P_PARK_20250314.csv" in out.getvalue()


def test_the_background_task_writes_the_day_and_reports_it(council, recording, export_root):
    result = exports_run_task.enqueue("2025-03-14")

    assert result.status == TaskResultStatus.SUCCESSFUL  # the immediate backend ran it
    folder = export_root / "barsetshire" / "recording"
    assert result.return_value == [
        {
            "council": "barsetshire",
            "integration": "recording",
            "day": "2025-03-14",
            "status": "written",
            "attempt": 1,
            "files": [str(folder / "first.csv"), str(folder / "second.csv")],
            "message": "",
        }
    ]
    assert exports_run_task.enqueue("2025-03-14").return_value[0]["status"] == "skipped"
    assert exports_run_task.enqueue("2025-03-14", rerun=True).return_value[0]["attempt"] == 2


def test_a_fund_of_another_council_never_reaches_a_councils_files(
    council, other_council, department, export_root
):
    theirs = FundCodeFactory(organisation=other_council, code="PARK", allowed_channels=["bank"])
    payment_take(
        organisation=other_council,
        channel="bank",
        method="bank_transfer",
        lines=[LineInput(theirs, 5_000, account_reference="THEIRS")],
    )
    today = timezone.localdate()

    exports_run(day=today)

    written = (export_root / "barsetshire/parking-files" / f"P_PARK_{today:%Y%m%d}.csv").read_text()
    assert "THEIRS" not in written and "TOTAL,0," in written
