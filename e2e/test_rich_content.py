"""Item markup in the browser: Markdown (emphasis, tables, images) shows as rendered HTML
when the exam script draws a question, raw HTML shows as text, and images preloaded by the
script still show once the network is gone."""

from __future__ import annotations

import hashlib
import itertools
import re
import struct
import zlib
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from e2e.conftest import CANDIDATE_PASSWORD, PROCTOR_EMAIL, ExamDatabase, button, sign_in
from item_bank.model import ItemKind
from webapp import dialect
from webapp.models import (
    AttemptState,
    ContentDomain,
    ExamSession,
    Form,
    FormItem,
    ImageAsset,
    ItemVersion,
    Role,
    User,
    utcnow,
)
from webapp.services import attempts, auth

pytestmark = pytest.mark.e2e
_runs = itertools.count(1)


def _png(width: int, height: int, shade: int) -> bytes:
    """A valid grey RGB PNG of the given size (so that the browser decodes it)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + bytes([shade]) * 3 * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


STEMS = [
    "A plain first question?",
    "The chart shows **weekly visits**.\n\n![](visits.png)\n\n| Week | Visits |\n"
    "|------|-------:|\n| 1    | 12     |\n\nWhich week is *busiest*?",
    "<script>window.hacked = 1</script> Which *option* fits the scan?\n\n![](scan.png)",
]


def _rich_sitting(exam_db: ExamDatabase) -> tuple[str, int]:
    """A new candidate admitted to a 3-item form (no shuffling) with rich items 2 and 3."""
    n = next(_runs)
    images = {"visits.png": _png(3, 2, 90), "scan.png": _png(5, 4, 200)}
    with exam_db.session() as s:
        dialect.begin_write(s)
        demo = s.scalars(select(ExamSession).order_by(ExamSession.id)).first()
        assert demo is not None
        demo_form = s.get(Form, demo.form_id)
        assert demo_form is not None
        domain = s.scalars(select(ContentDomain).where(
            ContentDomain.programme_id == demo_form.programme_id)).first()
        assert domain is not None
        for data in images.values():
            sha = hashlib.sha256(data).hexdigest()
            if s.get(ImageAsset, sha) is None:
                s.add(ImageAsset(sha256=sha, media_type="image/png", size=len(data), data=data))
        form = Form(programme_id=demo_form.programme_id, code=f"E2E-RICH-{n}",
                    title="Rich content", published=True, duration_minutes=30,
                    shuffle_items=False, shuffle_options=False)
        s.add(form)
        s.flush()
        for position, stem in enumerate(STEMS, start=1):
            shown = [name for name in images if f"]({name})" in stem]
            item = ItemVersion(
                code=f"E2E-RICH-{n}-{position}", programme_id=demo_form.programme_id,
                domain_code=domain.code, kind=ItemKind.MCQ, stem=stem, key="A",
                options=[{"id": o, "text": f"Option *{o}* of {position}"} for o in "ABCD"],
                assets=[{"file": name, "alt": f"Image {name}", "media_type": "image/png",
                         "sha256": hashlib.sha256(images[name]).hexdigest(),
                         "size": len(images[name])} for name in shown],
            )
            s.add(item)
            s.flush()
            s.add(FormItem(form_id=form.id, position=position, item_version_id=item.id))
        exam_session = ExamSession(centre_id=demo.centre_id, form_id=form.id,
                                   starts_at=utcnow())
        s.add(exam_session)
        s.flush()
        proctor = s.scalars(select(User).where(User.email == PROCTOR_EMAIL)).one()
        email = f"e2e-rich{n}@example.test"
        user = auth.create_user(s, email, CANDIDATE_PASSWORD, Role.CANDIDATE, f"Rich {n}")
        attempt = attempts.create_attempt(s, user.id, exam_session)
        attempts.transition(s, attempt, AttemptState.ADMITTED, utcnow(), actor_id=proctor.id,
                            reason="e2e: checked in")
        s.commit()
        return email, attempt.id


def _heading(page: Page, n: int) -> None:
    expect(page.get_by_role("heading", name=re.compile(rf"^Question {n} of 3\b"))).to_be_visible()


def _image_shown(page: Page, alt: str, width: int) -> None:
    page.wait_for_function(
        "([alt, width]) => { const img = document.querySelector(`.stem img[alt='${alt}']`);"
        " return !!img && img.complete && img.naturalWidth === width; }", arg=[alt, width])


def test_rich_items_render_in_the_browser_and_their_images_survive_a_cut(
    new_context: Callable[..., BrowserContext], exam_db: ExamDatabase
) -> None:
    email, attempt_id = _rich_sitting(exam_db)
    page = new_context().new_page()
    sign_in(page, email, CANDIDATE_PASSWORD)
    page.get_by_role("link", name=re.compile(r"^Start exam", re.I)).click()
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=re.compile(r"^Begin exam", re.I)).click()
    _heading(page, 1)
    page.wait_for_load_state("networkidle")  # the script has preloaded the paper's images

    # Question 2, drawn by the exam script from the embedded paper.
    button(page, "Next").click()
    _heading(page, 2)
    stem = page.locator(".stem")
    expect(stem.locator("strong")).to_have_text("weekly visits")
    expect(stem.locator("em")).to_have_text("busiest")
    expect(stem.locator("td.align-right")).to_have_text("12")
    expect(page.get_by_role("group", name=re.compile(r"weekly visits"))).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile(r"^A Option A of 2$"))).to_be_visible()
    expect(page.locator(".option .text em").first).to_have_text("A")
    _image_shown(page, "Image visits.png", 3)

    # Offline: question 3's image comes from the script's memory; its raw HTML is text.
    page.context.set_offline(True)
    button(page, "Next").click()
    _heading(page, 3)
    expect(page.locator(".stem")).to_contain_text("<script>window.hacked = 1</script>")
    expect(page.locator(".stem em")).to_have_text("option")
    _image_shown(page, "Image scan.png", 5)
    assert page.evaluate("window.hacked") is None
    page.context.set_offline(False)

    # The server's own rendering of the same question (a reload) is the same markup, but
    # for the layout's white space and where the image came from.
    def markup(html: str) -> str:
        return re.sub(r">\s+<", "><", re.sub(r'src="[^"]*"', "", html)).strip()

    drawn = page.locator(".question").inner_html()
    page.reload()
    _heading(page, 3)
    served = page.locator(".question").inner_html()
    assert markup(served) == markup(drawn)
    assert f'src="/exam/{attempt_id}/images/' in served and 'src="data:image/png' in drawn
