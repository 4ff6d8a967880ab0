"""The exam page is light enough for a test centre's network: at most 200 KB transferred."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import Candidate, question_heading, sign_in, start_exam

pytestmark = pytest.mark.e2e

BUDGET_BYTES = 200_000

# Bytes on the wire per entry (headers + compressed body); a same-origin entry always has
# transferSize, encodedBodySize (the compressed body) only stands in if it is ever 0.
TRANSFERRED = """() => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  return entries.map((e) => ({name: e.name, type: e.initiatorType || "navigation",
                              transfer: e.transferSize, encoded: e.encodedBodySize,
                              decoded: e.decodedBodySize}));
}"""


def test_first_load_of_the_question_page_fits_the_budget(
    new_context: Callable[..., BrowserContext], candidate: Candidate
) -> None:
    setup = new_context()
    page = setup.new_page()
    sign_in(page, candidate.email, candidate.password)
    start_exam(page)
    url = page.url
    cookies = setup.storage_state()
    setup.close()

    # A new context: empty cache, as on the candidate's first load.
    page = new_context(storage_state=cookies).new_page()
    page.goto(url, wait_until="load")
    expect(question_heading(page, 1)).to_be_visible()
    entries = page.evaluate(TRANSFERRED)
    kinds = {e["type"] for e in entries}
    assert "navigation" in kinds
    names = [e["name"] for e in entries]
    assert any(re.search(r"/static/app\.css", n) for n in names), names
    assert any(re.search(r"/static/exam\.js", n) for n in names), names
    total = sum(e["transfer"] or e["encoded"] for e in entries)
    decoded = sum(e["decoded"] for e in entries)
    for e in entries:
        print(f"{e['type']:<10} {e['transfer'] or e['encoded']:>8} B on the wire "
              f"({e['decoded']:>8} B decoded) {e['name']}")
    print(f"exam question page, first load: {total} B transferred ({decoded} B decoded), "
          f"budget {BUDGET_BYTES} B")
    assert 0 < total <= BUDGET_BYTES
