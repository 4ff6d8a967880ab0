"""The candidate's path through the pages, end to end, without JavaScript."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import PASSWORD, make_attempt, make_exam_session, make_form, make_user
from webapp.models import Attempt, AttemptEvent, AttemptState, Response, Role


def _paper(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="paper-data">(.*?)</script>', html,
                      re.S)
    assert match
    return json.loads(match.group(1))


def test_admitted_candidate_starts_answers_and_submits(app, session, client, clock):
    form = make_form(session, n_items=6, keys=list("ABCDAB"))
    candidate = make_user(session, Role.CANDIDATE)
    attempt = make_attempt(session, candidate, make_exam_session(session, form),
                           state=AttemptState.ADMITTED)
    session.commit()
    sign_in(client, candidate.email, PASSWORD)

    home = client.get("/candidate/").get_data(as_text=True)
    assert "Start exam" in home
    refused = client.post(f"/exam/{attempt.id}/start", data={})
    assert refused.status_code == 422
    assert "accept the exam rules" in refused.get_data(as_text=True)
    started = client.post(f"/exam/{attempt.id}/start", data={"accept": "yes"})
    assert started.status_code == 303
    assert started.headers["Location"].endswith(f"/exam/{attempt.id}/q/1")

    page = client.get(f"/exam/{attempt.id}/q/1").get_data(as_text=True)
    assert "Question 1 of 6" in page
    assert "3:00:00" in page
    paper = _paper(page)
    # Answer every question with its first shown option through the no-JS form posts.
    for position, question in enumerate(paper["questions"], start=1):
        clock.advance(10)
        resp = client.post(f"/exam/{attempt.id}/q/{position}",
                           data={"choice": question["options"][0][0], "action": "next"})
        assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/exam/{attempt.id}/review")
    review = client.get(f"/exam/{attempt.id}/review").get_data(as_text=True)
    assert "Answered: 6" in review and "Flagged: 0" in review

    done = client.post(f"/exam/{attempt.id}/submit")
    assert done.headers["Location"].endswith(f"/exam/{attempt.id}/done")
    assert "submitted" in client.get(done.headers["Location"]).get_data(as_text=True)

    session.expire_all()
    stored = session.get(Attempt, attempt.id)
    assert stored.state is AttemptState.SUBMITTED
    assert stored.time_used_s == 60.0
    choices = {r.item_version_id: r.choice for r in session.scalars(
        select(Response).where(Response.attempt_id == attempt.id))}
    keys = {slot.item_version_id: slot.item.key for slot in form.items}
    scored = {slot.item_version_id for slot in form.items if slot.scored}
    assert stored.raw_score == sum(choices[i] == keys[i] for i in scored)
    assert sum(stored.domain_raw.values()) == stored.raw_score
    kinds = [e.kind for e in session.scalars(
        select(AttemptEvent).where(AttemptEvent.attempt_id == attempt.id))]
    assert kinds.count("save") == 6 and kinds.count("transition") == 3
