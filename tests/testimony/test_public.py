"""The anonymous worker pages at /report: filing, receipts, follow-up, privacy and limits."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from monitoring.accounts.models import Organisation, User
from monitoring.config import WORKER_LOCALES
from monitoring.core.audit import AuditEntry
from monitoring.core.db import Base, db
from monitoring.supplychain import operations as supplychain
from monitoring.supplychain.models import SiteKind
from monitoring.testimony import receipts, sealing, throttle
from monitoring.testimony.models import (
    Evidence,
    IssueCategory,
    MonitorCoverage,
    ReportChannel,
    ReportMessage,
    ReportStatus,
    ThrottleCounter,
    WorkerReport,
)
from tests.conftest import csrf_token, unlocked_as


def translated(app, locale: str, message: str, **values: object) -> str:
    """A message as a worker page in ``locale`` shows it (HTML-escaped)."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with app.test_request_context("/report/"), force_locale(locale):
        return str(escape(gettext(message, **values)))


PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
FIXED_NOW = datetime(2031, 3, 4, 5, 6, 30, tzinfo=UTC)
SCRIPTS = {  # the zero digit of a few scripts workers write in
    "thai": 0x0E50,
    "burmese": 0x1040,
    "devanagari": 0x0966,
    "arabic-indic": 0x0660,
    "full-width": 0xFF10,
}
_RECEIPT = re.compile(r'<p class="receipt-number" id="receipt" translate="no">(.*?)</p>', re.S)
_EXTERNAL = re.compile(r"""(?:https?:)?//(?!localhost[/:"'])[^\s"'<>]+""")


@dataclass
class World:
    organisation_id: int
    organisation_name: str
    monitor: User
    site_id: int
    merged_site_id: int


@pytest.fixture
def world(app, monitor_with_keys) -> World:
    """A monitor organisation with a key that covers Thailand, and two sites there (one merged)."""
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        organisation = monitor.organisation
        db.session.add(MonitorCoverage(organisation_id=organisation.id, country="TH"))
        site = supplychain.create_site(
            None,
            supplychain.SiteData(
                name="Siam Circuit Works", country="TH", kind=SiteKind.final_assembly, city="Ayutthaya"
            ),
        )
        merged = supplychain.create_site(
            None,
            supplychain.SiteData(
                name="Siam Circuit Works Old", country="TH", kind=SiteKind.component, city="Bangkok"
            ),
        )
        merged.merged_into_id = site.id
        merged.merged_dt = FIXED_NOW
        db.session.commit()
        return World(organisation.id, organisation.name, monitor_with_keys, site.id, merged.id)


def in_script(digits: str, script: str) -> str:
    zero = SCRIPTS[script]
    return "".join(chr(zero + int(d)) for d in digits)


def shown_receipt(page: str) -> str:
    match = _RECEIPT.search(page)
    assert match, "no receipt on the page"
    return re.sub(r"\D", "", match.group(1))


@dataclass(frozen=True)
class Place:
    """The workplace a worker chose: a site, or the country of a workplace they describe.

    It travels in POST bodies only, never in a URL (tests/security/test_worker_search_in_urls.py).
    """

    site: int | None = None
    country: str | None = None
    lang: str | None = None

    @property
    def url(self) -> str:
        return "/report/new" + (f"?lang={self.lang}" if self.lang else "")

    @property
    def body(self) -> dict[str, str]:
        return {"site": str(self.site)} if self.site is not None else {"country": self.country or ""}


_FIELD = r'name="{}" type="hidden" value="([^"]+)"'


def hidden(page: str, name: str) -> str:
    match = re.search(_FIELD.format(name), page)
    assert match, f"no hidden field {name}"
    return match.group(1)


def choose(client, place: Place):
    """Choose the workplace as the search page does (a POST); the answer is the report form."""
    token = csrf_token(client, "/report/workplace")
    return client.post(place.url, data={**place.body, "csrf_token": token})


def search(client, query: str, lang: str | None = None):
    token = csrf_token(client, "/report/workplace")
    url = "/report/workplace" + (f"?lang={lang}" if lang else "")
    return client.post(url, data={"q": query, "csrf_token": token})


def form_fields(client, place: Place) -> dict[str, str]:
    """The hidden fields of a fresh report form for the place (token, submission, workplace)."""
    page = choose(client, place).get_data(as_text=True)
    return {"csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"), **place.body}


def file_report(client, place: Place, **data) -> tuple[object, str | None]:
    """Choose the workplace, fill the form in, send it; return the response and the receipt shown."""
    fields = {"testimony": "They keep our passports in the office.", **data, **form_fields(client, place)}
    response = client.post(place.url, data=fields, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    return response, (shown_receipt(page) if 'id="receipt"' in page else None)


def follow_up(client, receipt: str, lang: str = "en"):
    token = csrf_token(client, f"/report/follow-up?lang={lang}")
    return client.post(f"/report/follow-up?lang={lang}", data={"receipt": receipt, "csrf_token": token})


def reports(app) -> list[WorkerReport]:
    with app.app_context():
        return list(db.session.scalars(select(WorkerReport).order_by(WorkerReport.id)))


def assert_worker_page(response) -> str:
    """Small, self-contained, without scripts, never cached."""
    page = response.get_data(as_text=True)
    css = "monitoring/static/report.css"
    with open(css, "rb") as fh:
        css_size = len(fh.read())
    assert len(response.get_data()) + css_size < 50 * 1024, f"{len(response.get_data())} bytes"
    assert "<script" not in page
    assert _EXTERNAL.findall(page) == [], "a worker page refers to another host"
    assert 'href="/static/report.css"' in page and "css/app.css" not in page
    assert response.headers["Cache-Control"] == "no-store"
    return page


# --- the pages ---------------------------------------------------------------------------------


def test_start_page_explains_and_offers_every_language(app, world):
    client = app.test_client()
    response = client.get("/report/")
    page = assert_worker_page(response)
    assert response.status_code == 200
    assert 'lang="en"' in page
    assert "Only its monitors can read your report" in page
    for code in ("en", "zh_Hans", "th", "my", "vi", "ms", "ne", "cs", "es"):
        assert f"/report/?lang={code}" in page
    assert "/report/workplace?lang=en" in page and "/report/follow-up?lang=en" in page


def test_language_comes_from_the_link_then_the_browser(app, world):
    client = app.test_client()
    page = client.get("/report/?lang=th").get_data(as_text=True)
    assert '<html lang="th">' in page
    assert "/report/workplace?lang=th" in page  # the choice travels with every link
    page = client.get("/report/", headers={"Accept-Language": "my-MM,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="my">' in page
    page = client.get("/report/?lang=xx", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Set-Cookie" not in client.get("/report/?lang=vi").headers  # no cookie for the language


def test_search_finds_workplaces_by_name_or_city_and_skips_merged_sites(app, world):
    client = app.test_client()
    page = assert_worker_page(search(client, "siam circuit", lang="th"))
    assert "Siam Circuit Works" in page and "Ayutthaya" in page
    assert 'action="/report/new?lang=th"' in page and f'name="site" value="{world.site_id}"' in page
    assert f'value="{world.merged_site_id}"' not in page
    page = search(client, "ayutt").get_data(as_text=True)
    assert f'name="site" value="{world.site_id}"' in page and "Thailand" in page
    page = search(client, "bangkok").get_data(as_text=True)
    assert "Nothing found" in page
    page = search(client, "%").get_data(as_text=True)
    assert "Type at least 2 letters" in page
    page = search(client, "%%").get_data(as_text=True)
    assert "Siam Circuit Works" not in page  # LIKE wildcards are matched literally


def test_a_search_with_an_expired_form_is_asked_again(app, world):
    response = app.test_client().post("/report/workplace", data={"q": "siam", "csrf_token": "stale"})
    page = assert_worker_page(response)
    assert "Please search again" in page and "Siam Circuit Works" not in page


def test_form_names_the_receiving_organisation(app, world):
    client = app.test_client()
    page = assert_worker_page(choose(client, Place(site=world.site_id)))
    assert f"Your report goes to the monitors of {world.organisation_name}" in page
    assert "Siam Circuit Works" in page
    assert 'enctype="multipart/form-data"' in page and 'method="post"' in page
    assert f'<input type="hidden" name="site" value="{world.site_id}">' in page
    for category in IssueCategory:
        assert f'value="{category.value}"' in page
    # A merged site leads to the site it was merged into.
    page = choose(client, Place(site=world.merged_site_id)).get_data(as_text=True)
    assert "Ayutthaya" in page


def test_unknown_site_and_missing_workplace(app, world):
    client = app.test_client()
    response = choose(client, Place(site=999999, lang="cs"))
    assert response.status_code == 404
    assert '<html lang="cs">' in assert_worker_page(response)
    response = client.get("/report/new?lang=th")
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/workplace?lang=th")
    # A choice without a valid form token is not taken.
    response = client.post("/report/new?lang=th", data={"site": str(world.site_id), "csrf_token": "x"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/workplace?lang=th")


def test_country_nobody_covers_is_said_plainly(app, world):
    page = choose(app.test_client(), Place(country="VN")).get_data(as_text=True)
    assert "no monitoring organisation receives reports about workplaces in Vietnam" in page
    assert "<form" not in page


# --- filing a report -----------------------------------------------------------------------------


def test_filing_a_report_seals_it_and_shows_the_receipt_once(app, world):
    client = app.test_client()
    response, receipt = file_report(
        client,
        Place(site=world.site_id, lang="th"),
        categories=["retained_documents", "recruitment_fees"],
        consent_share_buyers="y",
        consent_contact="y",
        contact="LINE: somchai-1988",
    )
    page = assert_worker_page(response)
    assert response.status_code == 200
    assert '<html lang="th">' in page
    assert receipt is not None and len(receipt) == 20
    assert re.search(r"(<span>\d{4}</span> ){4}<span>\d{4}</span>", page)
    assert "hreflang=" not in page  # no language links that would lose the receipt
    [report] = reports(app)
    derived = receipts_for(app, receipt)
    assert report.receipt_lookup == derived.lookup and report.receipt_public_key == derived.public_key
    assert report.channel is ReportChannel.web and report.created_by_id is None
    assert report.site_id == world.site_id and report.country == "TH" and report.language == "th"
    assert report.organisation_id == world.organisation_id
    assert (report.consent_share_buyers, report.consent_share_supplier, report.consent_contact) == (
        True,
        False,
        True,
    )
    assert {c.category for c in report.categories} == {
        IssueCategory.retained_documents,
        IssueCategory.recruitment_fees,
    }
    assert report.acknowledge_due_dt is not None and report.feedback_due_dt is not None
    with unlocked_as(app, world.monitor) as monitor:
        opened = sealing.open_report(monitor, db.session.get(WorkerReport, report.id), reason="test")
    assert opened.testimony == "They keep our passports in the office."
    assert opened.identity is not None and opened.identity.contact == "LINE: somchai-1988"


def receipts_for(app, receipt: str) -> receipts.ReceiptSecrets:
    with app.app_context():
        return receipts.receipt_secrets(receipt)


def test_a_described_workplace_is_sealed_with_the_chosen_country(app, world):
    client = app.test_client()
    url = Place(country="th", lang="en")
    response, receipt = file_report(client, url)
    assert receipt is None and "Please describe the workplace." in response.get_data(as_text=True)
    response, receipt = file_report(client, url, workplace="Blue gate factory near the river, Lamphun")
    assert receipt is not None
    [report] = reports(app)
    assert report.site_id is None and report.country == "TH"
    assert b"Blue gate" not in (report.workplace_sealed or b"")
    with unlocked_as(app, world.monitor) as monitor:
        opened = sealing.open_report(monitor, db.session.get(WorkerReport, report.id), reason="test")
    assert opened.workplace == "Blue gate factory near the river, Lamphun"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"testimony": "  "}, "Please tell us what happened."),
        ({"consent_contact": "y"}, "Tell the monitors how to reach you"),
        ({"contact": "+66 81 234 5678"}, "tick this box if the monitors may contact you"),
        ({"categories": ["not_a_category"]}, "is not a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_stored(app, world, data, message):
    client = app.test_client()
    response, receipt = file_report(client, Place(site=world.site_id), **data)
    page = response.get_data(as_text=True)
    assert receipt is None and response.status_code == 200
    assert message in page
    assert "Your report was not sent yet" in page
    assert reports(app) == []


def test_an_expired_form_keeps_what_the_worker_wrote(app, world):
    client = app.test_client()
    place = Place(site=world.site_id)
    fields = {**form_fields(client, place), "testimony": "The supervisor hits people.", "csrf_token": "stale"}
    response = client.post(place.url, data=fields)
    page = response.get_data(as_text=True)
    assert "This form was open for a long time" in page
    assert "The supervisor hits people." in page
    assert reports(app) == []


def test_evidence_is_sealed_with_the_report(app, world):
    client = app.test_client()
    _response, receipt = file_report(
        client, Place(site=world.site_id), evidence=(io.BytesIO(PNG), "dorm-room.png")
    )
    assert receipt is not None
    [report] = reports(app)
    with app.app_context():
        [evidence] = db.session.scalars(select(Evidence).where(Evidence.report_id == report.id)).all()
        assert evidence.content_type == "image/png" and evidence.size == len(PNG)
        assert evidence.uploaded_by_id is None
        assert b"dorm-room" not in evidence.name_sealed


def test_a_file_of_another_type_is_refused(app, world):
    client = app.test_client()
    response, receipt = file_report(
        client,
        Place(site=world.site_id),
        evidence=(io.BytesIO(b"MZ\x90\x00" * 50), "a.exe"),
    )
    assert receipt is None
    assert "This type of file is not accepted" in response.get_data(as_text=True)
    assert reports(app) == []


class _UnreadableBody:
    """A request body of ``size`` bytes that fails the test if anything reads it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size if whence == 2 else offset
        return self.position

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_an_oversized_upload_is_refused_before_the_body_is_read(app, world):
    client = app.test_client()
    url = Place(site=world.site_id, lang="es").url
    declared = app.config["EVIDENCE_MAX_BYTES"] + 10 * 1024 * 1024
    response = client.post(
        url,
        input_stream=_UnreadableBody(declared),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413
    page = assert_worker_page(response)
    size = app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
    message = (
        "The file is too large. Nothing was sent. Go back, choose a smaller file "
        "(at most %(size)s MB) or send your report without it."
    )
    assert '<html lang="es">' in page and translated(app, "es", message, size=size) in page
    assert reports(app) == []


def test_a_file_over_the_limit_within_the_declared_size_is_refused(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024)
    client = app.test_client()
    response, receipt = file_report(
        client, Place(site=world.site_id), evidence=(io.BytesIO(PNG * 20), "big.png")
    )
    assert receipt is None and "The file is too large." in response.get_data(as_text=True)
    assert reports(app) == []


def test_reports_are_limited_per_client(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_REPORT_MAX_PER_CLIENT", 1)
    monkeypatch.setattr(throttle, "utcnow", lambda: FIXED_NOW)
    client = app.test_client()
    url = Place(site=world.site_id, lang="th")
    fields = {"testimony": "The agency took our passports.", **form_fields(client, url)}
    assert file_report(client, url)[1] is not None
    # A form opened before is refused when sent, and so is a new choice of workplace.
    response = client.post(url.url, data=fields, content_type="multipart/form-data")
    assert response.status_code == 429 and 'id="receipt"' not in response.get_data(as_text=True)
    assert choose(client, url).status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert '<html lang="th">' in assert_worker_page(response)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert file_report(other, url)[1] is not None
    assert len(reports(app)) == 2


# --- follow-up ---------------------------------------------------------------------------------


@pytest.fixture
def filed(app, world) -> str:
    """A report filed through the form; its receipt."""
    _response, receipt = file_report(app.test_client(), Place(site=world.site_id))
    assert receipt is not None
    return receipt


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_receipts_in_other_scripts_find_the_same_report(app, world, filed, script):
    typed = " ".join(in_script(filed[i : i + 4], script) for i in range(0, 20, 4))
    response = follow_up(app.test_client(), typed, lang="th")
    page = assert_worker_page(response)
    assert "No report was found" not in page
    assert translated(app, "th", "Received") in page and world.organisation_name in page
    # The receipt is carried on only in hidden fields: of the message form, the retaliation flag
    # and the request to erase the report.
    assert page.count(f'value="{typed}"') == page.count(f'type="hidden" value="{typed}"') == 3


def test_follow_up_shows_status_deadlines_and_the_conversation(app, world, filed):
    with app.app_context():
        report = db.session.scalar(select(WorkerReport))
        monitor = db.session.get(User, world.monitor.id)
        sealing.add_message(report, body="We received your report and will visit next week.", author=monitor)
        report.status = ReportStatus.acknowledged
        report.acknowledged_dt = FIXED_NOW
        db.session.commit()
    page = assert_worker_page(follow_up(app.test_client(), "-".join([filed[:10], filed[10:]])))
    assert "Acknowledged" in page
    assert "We received your report and will visit next week." in page
    assert "The monitors" in page
    assert "given on" in page and "due by" in page  # acknowledged; feedback still due


def test_worker_and_monitor_talk_through_the_receipt(app, world, filed):
    client = app.test_client()
    page = follow_up(client, filed).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/report/follow-up/message?lang=vi",
        data={"receipt": filed, "body": "They also took our phones.", "csrf_token": token},
        content_type="multipart/form-data",
    )
    page = assert_worker_page(response)
    assert '<html lang="vi">' in page
    assert translated(app, "vi", "Your message was sent to the monitors.") in page
    assert "They also took our phones." in page
    with unlocked_as(app, world.monitor) as monitor:
        report = db.session.scalar(select(WorkerReport))
        [message] = sealing.read_messages(monitor, report, reason="test")
        assert message.body == "They also took our phones." and message.message.from_worker
        sealing.add_message(report, body="Thank you. Are you safe?", author=monitor)
        db.session.commit()
    page = follow_up(app.test_client(), filed).get_data(as_text=True)
    assert page.index("They also took our phones.") < page.index("Thank you. Are you safe?")


def test_message_with_an_expired_form_is_kept_unsent(app, world, filed):
    client = app.test_client()
    response = client.post(
        "/report/follow-up/message", data={"receipt": filed, "body": "Please call me.", "csrf_token": "x"}
    )
    page = response.get_data(as_text=True)
    assert "your message was not sent" in page and "Please call me." in page
    with app.app_context():
        assert db.session.scalar(select(func.count(ReportMessage.id))) == 0


def test_a_wrong_receipt_gets_a_generic_answer(app, world, filed):
    wrong = str((int(filed) + 1) % 10**20).zfill(20)
    for typed in (wrong, "12345", "abcd" * 5):
        page = follow_up(app.test_client(), typed).get_data(as_text=True)
        assert "No report was found for this receipt number" in page
        assert typed not in page  # not echoed back
    client = app.test_client()
    response = client.post(
        "/report/follow-up/message", data={"receipt": wrong, "body": "x", "csrf_token": "x"}
    )
    assert "No report was found" in response.get_data(as_text=True)


def test_wrong_receipts_are_throttled_per_client(app, world, filed, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_FOLLOWUP_MAX_PER_CLIENT", 3)
    monkeypatch.setattr(throttle, "utcnow", lambda: FIXED_NOW)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    wrong = str((int(filed) + 7) % 10**20).zfill(20)
    for _ in range(3):
        assert follow_up(client, wrong).status_code == 200
    response = follow_up(client, filed)  # even the right receipt waits now
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(15 * 60 - 6 * 60 - 30)
    assert "Too many attempts" in assert_worker_page(response)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.11"
    assert "Received" in follow_up(other, filed).get_data(as_text=True)
    # Right receipts do not count against a client.
    for _ in range(4):
        assert follow_up(other, filed).status_code == 200


def test_receipts_are_throttled_globally(app, world, filed, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_FOLLOWUP_MAX_PER_MINUTE", 2)
    monkeypatch.setattr(throttle, "utcnow", lambda: FIXED_NOW)
    wrong = str((int(filed) + 3) % 10**20).zfill(20)
    for n, typed in enumerate((wrong, filed)):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{20 + n}"
        assert follow_up(client, typed).status_code == 200
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    response = follow_up(client, filed)
    assert response.status_code == 429 and response.headers["Retry-After"] == "30"


# --- privacy -----------------------------------------------------------------------------------


def _every_value(app):
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    yield table.name, column.name, value


def test_no_client_address_and_no_receipt_is_stored(app, world):
    address = "203.0.113.77"
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    _response, receipt = file_report(
        client,
        Place(site=world.site_id),
        evidence=(io.BytesIO(PNG), "photo.png"),
        consent_contact="y",
        contact="Signal +66 80 000 0000",
    )
    assert receipt is not None
    follow_up(client, "1" * 20)  # a failed follow-up is counted (under an HMAC)
    page = follow_up(client, receipt).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/report/follow-up/message",
        data={"receipt": receipt, "body": "More details.", "csrf_token": token},
        content_type="multipart/form-data",
    )
    grouped = receipts.format_receipt(receipt)
    found = []
    tables = set()
    for table, column, value in _every_value(app):
        tables.add(table)
        if value is None:
            continue
        raw = value if isinstance(value, bytes) else str(value).encode()
        for needle in (address, receipt, grouped, "Signal +66"):
            if needle.encode() in raw:
                found.append((table, column, needle))
    assert found == []
    assert {"throttle_counter", "audit_entry", "worker_report", "report_message", "web_session"} <= tables
    with app.app_context():
        assert db.session.scalar(select(func.count(ThrottleCounter.id))) >= 3
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert "report.create" in actions and "report.message" in actions
        assert all(
            entry.actor_id is None
            for entry in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(["report.create", "report.message"]))
            )
        )


def test_worker_pages_without_javascript_post_plain_forms(app, world, filed):
    client = app.test_client()
    for response in (
        client.get("/report/"),
        client.get("/report/workplace"),
        search(client, "siam"),
        choose(client, Place(site=world.site_id)),
        client.get("/report/follow-up"),
    ):
        page = assert_worker_page(response)
        for form in re.findall(r"<form[^>]*>", page):
            assert 'method="post"' in form  # never GET: nothing the worker types goes into a URL
            assert "action=" in form
    page = assert_worker_page(follow_up(client, filed))
    assert 'action="/report/follow-up/message?lang=en"' in page


def test_the_receiving_organisation_is_an_active_one(app, world):
    with app.app_context():
        db.session.get(Organisation, world.organisation_id).is_active = False
        db.session.commit()
    page = choose(app.test_client(), Place(site=world.site_id)).get_data(as_text=True)
    assert "no monitoring organisation receives reports" in page


def test_uploaded_files_never_touch_the_disk_in_clear(app, world, monkeypatch):
    import werkzeug.formparser

    def no_disk(*args, **kwargs):
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_disk)
    big = PNG + bytes(900 * 1024)  # over werkzeug's 500 KB in-memory threshold
    client = app.test_client()
    place = Place(site=world.site_id)
    url = place.url
    fields = {
        "testimony": "x",
        **form_fields(client, place),
        "evidence": FileStorage(io.BytesIO(big), "p.png"),
    }
    # Encoded here in memory: the test client would spool a body this large to a temporary file.
    stream, length, boundary = stream_encode_multipart(MultiDict(fields), use_tempfile=False)
    response = client.post(url, input_stream=stream, content_type=f"multipart/form-data; boundary={boundary}")
    assert length > len(big) and shown_receipt(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(Evidence.size)) == len(big)


def test_every_worker_page_offers_the_languages(app, world, filed):
    client = app.test_client()
    pages = [
        client.get("/report/?lang=ne"),
        search(client, "siam", lang="ne"),
        choose(client, Place(site=world.site_id, lang="ne")),
        client.get("/report/follow-up?lang=ne"),
        follow_up(client, filed, lang="ne"),
        choose(client, Place(site=999, lang="ne")),
    ]
    for response in pages:
        page = assert_worker_page(response)
        assert '<html lang="ne">' in page
        assert page.count('hreflang="') == len(WORKER_LOCALES) and 'aria-current="true"' in page
    # After a POST the links lead to a page that can be fetched again (never to the POST URL).
    assert '/report/follow-up?lang=th"' in pages[4].get_data(as_text=True)
    # The search and the form lead back to the search: a link cannot carry the choice unseen.
    assert '/report/workplace?lang=th"' in pages[1].get_data(as_text=True)
    assert '/report/workplace?lang=th"' in pages[2].get_data(as_text=True)


def test_an_oversized_message_upload_is_refused_unread(app, world, filed):
    client = app.test_client()
    declared = app.config["EVIDENCE_MAX_BYTES"] * 2
    response = client.post(
        "/report/follow-up/message?lang=th",
        input_stream=_UnreadableBody(declared),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413 and '<html lang="th">' in response.get_data(as_text=True)


def test_sending_the_same_form_twice_files_one_report(app, world):
    client = app.test_client()
    url = Place(site=world.site_id, lang="th")
    fields = {"testimony": "They keep our passports in the office.", **form_fields(client, url)}
    before = len(reports(app))
    first = client.post(url.url, data=fields, content_type="multipart/form-data")
    assert 'id="receipt"' in first.get_data(as_text=True)
    again = client.post(url.url, data=fields, content_type="multipart/form-data")  # a reload, a double tap
    page = assert_worker_page(again)
    assert 'id="receipt"' not in page and '<html lang="th">' in page
    assert translated(app, "th", "Your report was already sent") in page
    assert len(reports(app)) == before + 1
    # A fresh form page files a new report.
    _response, receipt = file_report(client, url)
    assert receipt is not None and len(reports(app)) == before + 2
