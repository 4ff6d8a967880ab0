"""Every user-facing string goes through gettext, and the user's language is a setting.

A pseudo-translation ("fr" where every message becomes ⟦message⟧) is compiled from the
strings extracted from the code; pages rendered for a user whose language is "fr" must then
show no English outside the brackets, apart from exam content and data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo

from tests.conftest import sign_in
from tests.factories import PASSWORD, make_attempt, make_exam_session, make_form, make_user
from webapp.models import AttemptState, Role

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("webapp/**.py", "python"), ("webapp/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _pseudo_catalogue(directory: Path) -> None:
    catalog = Catalog(locale="fr")
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            catalog.add(message, tuple(f"⟦{m}⟧" for m in message))
        else:
            catalog.add(message, f"⟦{message}⟧")
    target = directory / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as out:
        write_mo(out, catalog)


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def _untranslated(text: str, allowed: list[str]) -> list[str]:
    outside = re.sub(r"⟦.*?⟧", " ", text, flags=re.S)
    for value in allowed:
        outside = outside.replace(value, " ")
    return re.findall(r"[A-Za-z]{3,}", outside)


def test_the_catalogue_holds_the_exam_strings():
    messages = {m[2] for m in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)}
    for expected in ("Flag for review", "Submit exam", "Confirm submit", "Review", "Next",
                     "Previous", "Begin exam", "Start exam", "Resume exam", "Sign in",
                     "Not saved, retrying", "Question %(n)s of %(t)s"):
        assert expected in messages


@pytest.fixture
def pseudo_app(make_app, tmp_path):
    _pseudo_catalogue(tmp_path)
    return make_app(LANGUAGES=("en", "fr"), BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))


def test_pages_for_a_french_user_have_no_untranslated_text(pseudo_app, clock):
    from webapp.extensions import db

    with pseudo_app.app_context():
        session = db.session
        form = make_form(session, n_items=3)
        candidate = make_user(session, Role.CANDIDATE, name="Zoe Zed")
        candidate.locale = "fr"
        exam_session = make_exam_session(session, form, clock())
        attempt = make_attempt(session, candidate, exam_session, state=AttemptState.IN_PROGRESS,
                               now=clock())
        content = [form.programme.name, candidate.full_name, "UTC"]
        for slot in form.items:
            content += [slot.item.stem] + [o["text"] for o in slot.item.options]
        content += ["Vignette", "a client case", exam_session.centre.name]
        session.commit()
        attempt_id = attempt.id
    client = pseudo_app.test_client()
    sign_in(client, candidate.email, PASSWORD)
    for path in ("/candidate/", f"/exam/{attempt_id}/q/1", f"/exam/{attempt_id}/review",
                 f"/exam/{attempt_id}/submit"):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="fr">' in page, path
        leftovers = _untranslated(_visible_text(page), content)
        assert leftovers == [], (path, leftovers)


def test_an_english_user_sees_english(make_app, clock):
    app = make_app()
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
