/* The candidate's exam in the browser.
 *
 * The server renders every page and each works without this script (plain form posts).
 * With it, the whole paper (no key) is already in the page, so moving between questions
 * and the review needs no request and keeps working offline. Every change is saved at
 * once with a per-attempt sequence number; saves that fail wait in localStorage and are
 * retried with backoff. The server's clock is the only clock: this script only draws the
 * countdown between server answers, using a monotonic timer.
 */
(function () {
  "use strict";

  const body = document.body;
  const attemptId = body.dataset.attempt;
  if (!attemptId) return;

  const QUEUE_KEY = "exam-queue-" + attemptId;
  const SEQ_KEY = "exam-seq-" + attemptId;
  const MAX_BACKOFF_MS = 5000;

  function readJSON(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  }

  /* ---------- the save queue (shared by the exam and the confirmation page) ---------- */

  const store = {
    load() {
      try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
    },
    save(queue) {
      try { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); } catch (e) { /* full or off */ }
    },
    seq() { return parseInt(localStorage.getItem(SEQ_KEY) || "0", 10) || 0; },
    setSeq(n) { try { localStorage.setItem(SEQ_KEY, String(n)); } catch (e) { /* ignore */ } },
    clear() {
      try { localStorage.removeItem(QUEUE_KEY); localStorage.removeItem(SEQ_KEY); } catch (e) { /* */ }
    },
  };

  const csrf = body.dataset.csrf;
  const saveUrl = body.dataset.saveUrl;
  let queue = store.load();
  let nextSeq = Math.max(parseInt(body.dataset.nextSeq || "1", 10), store.seq() + 1);
  let sending = false;
  let backoff = 0;
  let retryTimer = null;
  let stopped = false;
  const listeners = { acked: [], status: [], drained: [] };

  function emit(kind, arg) { listeners[kind].forEach((fn) => fn(arg)); }

  function enqueue(entry) {
    entry.seq = nextSeq++;
    store.setSeq(entry.seq);
    entry.client_time = Date.now();
    // Only the newest state of a question matters: drop older unsent ones.
    queue = queue.filter((q) => q.item !== entry.item || q.inFlight);
    queue.push(entry);
    store.save(queue.map(strip));
    emit("status", "saving");
    flush();
    return entry;
  }

  function strip(e) {
    return { seq: e.seq, item: e.item, choice: e.choice, flagged: e.flagged, struck: e.struck,
      position: e.position, client_time: e.client_time };
  }

  function remove(entry) {
    queue = queue.filter((q) => q !== entry);
    store.save(queue.map(strip));
  }

  function scheduleRetry() {
    backoff = Math.min(backoff ? backoff * 2 : 500, MAX_BACKOFF_MS);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, backoff);
    emit("status", "failed");
  }

  async function flush() {
    if (sending || stopped || !queue.length) {
      if (!queue.length && !sending) { emit("status", "saved"); emit("drained"); }
      return;
    }
    sending = true;
    emit("status", "saving");
    const entry = queue[0];
    entry.inFlight = true;
    let resp = null;
    try {
      resp = await fetch(saveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
          "X-CSRFToken": csrf },
        body: JSON.stringify(strip(entry)),
      });
    } catch (e) {
      resp = null; // offline or connection cut
    }
    entry.inFlight = false;
    sending = false;
    if (resp === null || resp.status >= 500 || resp.status === 429) {
      scheduleRetry();
      return;
    }
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {}; }
    if (resp.ok) {
      backoff = 0;
      remove(entry);
      emit("acked", { entry: entry, data: data });
      flush();
      return;
    }
    if (resp.status === 409 && data.error === "stale_save") {
      remove(entry); // the server already has something newer for this question
      flush();
      return;
    }
    if (resp.status === 422) {
      remove(entry); // cannot ever succeed; never block the queue behind it
      flush();
      return;
    }
    if (resp.status === 409 && data.error === "attempt_ended") {
      stopped = true;
      store.clear();
      window.location.assign(body.dataset.doneUrl);
      return;
    }
    if (resp.status === 409) { // paused or locked: the server page explains
      stopped = true;
      window.location.reload();
      return;
    }
    if (resp.status === 401) {
      stopped = true;
      emit("status", "signed_out");
      return;
    }
    if (resp.status === 400 && data.error === "csrf") {
      stopped = true; // a new page brings a new token; the queue survives the reload
      window.location.reload();
      return;
    }
    scheduleRetry();
  }

  window.addEventListener("online", () => { backoff = 0; flush(); });

  function whenDrained(callback) {
    if (!queue.length && !sending) { callback(); return; }
    listeners.drained.push(function once() {
      listeners.drained = listeners.drained.filter((f) => f !== once);
      callback();
    });
    flush();
  }

  /* ---------- the confirmation page: submit only once every answer is saved ---------- */

  const confirmForm = document.getElementById("confirm-form");
  if (confirmForm) {
    const pending = document.getElementById("pending-saves");
    confirmForm.addEventListener("submit", (ev) => {
      if (!queue.length) return;
      ev.preventDefault();
      pending.hidden = false;
      pending.textContent = fill(pending.dataset.template || "{n}", { n: queue.length });
      whenDrained(() => confirmForm.submit());
    });
    flush();
  }

  /* ---------- the ended page: nothing more can be saved ---------- */

  if (body.dataset.ended === "true") { store.clear(); return; }

  /* ---------- locked or paused pages: continue by themselves ---------- */

  const waitFor = body.dataset.waitFor;
  if (waitFor) {
    const poll = async () => {
      try {
        const r = await fetch(body.dataset.statusUrl, { headers: { "Accept": "application/json" },
          credentials: "same-origin" });
        if (r.status === 401) { window.location.assign(body.dataset.loginUrl || "/login"); return; }
        if (r.ok) {
          const s = await r.json();
          const free = waitFor === "locked" ? !s.locked_elsewhere : s.state !== "paused";
          if (free || ["submitted", "expired", "voided"].includes(s.state)) {
            window.location.reload();
            return;
          }
        }
      } catch (e) { /* offline: keep waiting */ }
      setTimeout(poll, 3000);
    };
    setTimeout(poll, 3000);
    return;
  }

  /* ---------- the exam itself ---------- */

  const paper = readJSON("paper-data");
  if (!paper) return;
  const strings = readJSON("exam-strings");
  const total = paper.questions.length;
  const base = body.dataset.base;
  const reviewUrl = body.dataset.reviewUrl;
  const state = {};
  for (const [item, r] of Object.entries(paper.responses)) state[item] = r;
  // Queued saves that the server has not acknowledged are newer than what it rendered.
  queue = queue.filter((e) => e.seq > ((state[e.item] || {}).seq || 0));
  store.save(queue);
  for (const e of queue) {
    state[e.item] = { choice: e.choice, flagged: e.flagged, struck: e.struck.slice(), seq: 0 };
  }

  function stateOf(item) {
    return state[item] || { choice: null, flagged: false, struck: [], seq: 0 };
  }

  /* Stems, options and vignettes arrive as safe HTML: the item markup rendered and then
   * sanitised with an allow-list (nh3) on the server. These fields, and only these, are
   * inserted as HTML; everything else on the page is set as text. */
  const imageData = {};

  function setRich(el, html) {
    el.innerHTML = html;
    el.querySelectorAll("img").forEach((img) => {
      const data = imageData[img.getAttribute("src")];
      if (data) img.src = data;
    });
  }

  /* The paper's images, fetched once into memory as data: URLs (which the CSP allows), so
   * that a question shown later, offline too, still has its images; none is written to the
   * workstation's disk cache (the server sends them no-store). One at a time, after load. */
  async function preloadImages() {
    for (const url of paper.images || []) {
      try {
        const r = await fetch(url, { credentials: "same-origin" });
        if (!r.ok) continue;
        const blob = await r.blob();
        imageData[url] = await new Promise((resolve, reject) => {
          const reader = new FileReader();
          reader.onload = () => resolve(reader.result);
          reader.onerror = () => reject(reader.error);
          reader.readAsDataURL(blob);
        });
      } catch (e) { /* offline now: this image loads when its question is shown online */ }
    }
  }

  const statusEl = document.getElementById("save-status");
  listeners.status.push((s) => {
    const text = { saving: strings.saving, saved: strings.saved, failed: strings.failed,
      signed_out: strings.signed_out }[s];
    if (statusEl.textContent !== text) statusEl.textContent = text;
    statusEl.dataset.state = s;
  });
  listeners.acked.push(({ entry, data }) => {
    const s = state[entry.item];
    if (s) s.seq = Math.max(s.seq || 0, data.seq || entry.seq);
    if (typeof data.remaining_s === "number") syncClock(data.remaining_s);
  });

  const form = document.getElementById("exam-form");
  const slot = document.getElementById("question-slot");
  const template = document.getElementById("question-template");
  const heading = document.getElementById("question-heading");
  const questionView = document.getElementById("question-view");
  const reviewView = document.getElementById("review-view");
  const prevBtn = document.getElementById("btn-previous");
  const flagBtn = document.getElementById("btn-flag");
  const actionTemplate = form.dataset.actionTemplate;
  let position = parseInt(body.dataset.position, 10);
  let view = body.dataset.view;

  function questionAt(pos) { return paper.questions[pos - 1]; }

  function renderQuestion(pos) {
    const q = questionAt(pos);
    const s = stateOf(q.item);
    const frag = template.content.cloneNode(true);
    const root = frag.querySelector(".question");
    root.dataset.item = q.item;
    const vignette = root.querySelector(".vignette");
    if (q.scenario) {
      vignette.hidden = false;
      setRich(root.querySelector("[data-slot=vignette]"), paper.vignettes[q.scenario]);
    }
    setRich(root.querySelector("[data-slot=stem]"), q.stem);
    const proto = root.querySelector(".option");
    q.options.forEach(([id, text], i) => {
      const row = proto.cloneNode(true);
      const letter = String.fromCharCode(65 + i);
      row.dataset.option = id;
      const input = row.querySelector("input");
      input.id = "opt-" + id;
      input.value = id;
      input.checked = s.choice === id;
      row.querySelector("label").htmlFor = input.id;
      row.querySelectorAll(".letter").forEach((el) => { el.textContent = letter; });
      setRich(row.querySelector(".text"), text);
      const strike = row.querySelector(".strike");
      strike.value = id;
      const struck = s.struck.includes(id);
      strike.setAttribute("aria-pressed", struck ? "true" : "false");
      row.classList.toggle("struck", struck);
      proto.parentNode.insertBefore(row, proto);
    });
    proto.remove();
    slot.replaceChildren(frag);
    heading.textContent = fill(strings.heading, { n: pos, t: total });
    form.action = actionTemplate.replace("999999", String(pos));
    prevBtn.disabled = pos === 1;
    flagBtn.setAttribute("aria-pressed", s.flagged ? "true" : "false");
  }

  function updateNavigator() {
    document.querySelectorAll(".nav-grid a").forEach((a) => {
      const q = questionAt(parseInt(a.dataset.pos, 10));
      const s = stateOf(q.item);
      a.classList.toggle("answered", s.choice !== null);
      a.classList.toggle("flagged", s.flagged);
      a.querySelector(".nav-state").textContent =
        (s.choice !== null ? ", " + strings.nav_answered : "") + (s.flagged ? ", " + strings.nav_flagged : "");
      if (view === "question" && parseInt(a.dataset.pos, 10) === position) {
        a.setAttribute("aria-current", "page");
      } else {
        a.removeAttribute("aria-current");
      }
    });
  }

  function currentFilter() {
    return new URLSearchParams(window.location.search).get("filter") || "all";
  }

  function renderReview(filter) {
    let answered = 0;
    let flagged = 0;
    let shown = 0;
    document.querySelectorAll("#review-list li").forEach((li) => {
      const s = stateOf(questionAt(parseInt(li.dataset.pos, 10)).item);
      const isAnswered = s.choice !== null;
      answered += isAnswered ? 1 : 0;
      flagged += s.flagged ? 1 : 0;
      const st = li.querySelector(".state");
      st.textContent = isAnswered ? strings.answered : strings.unanswered;
      st.classList.toggle("unanswered", !isAnswered);
      li.querySelector(".flag-state").hidden = !s.flagged;
      li.hidden = (filter === "unanswered" && isAnswered) || (filter === "flagged" && !s.flagged);
      shown += li.hidden ? 0 : 1;
    });
    const counts = { answered: answered, unanswered: total - answered, flagged: flagged };
    document.querySelectorAll("#review-summary [data-count]").forEach((el) => {
      const k = el.dataset.count;
      el.textContent = fill(strings["count_" + k], { n: counts[k] });
    });
    document.querySelectorAll(".filters a").forEach((a) => {
      if (a.dataset.filter === filter) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
    document.getElementById("review-empty").hidden = shown > 0;
    const back = document.getElementById("back-to-question");
    back.textContent = fill(strings.back_to, { n: position });
    back.href = base + position;
  }

  function show(target, opts) {
    const push = !(opts && opts.fromHistory);
    if (target === "review") {
      const filter = (opts && opts.filter) || "all";
      view = "review";
      renderReview(filter);
      questionView.hidden = true;
      reviewView.hidden = false;
      document.title = strings.review_title;
      if (push) {
        history.pushState({ view: "review", filter: filter }, "",
          reviewUrl + (filter !== "all" ? "?filter=" + filter : ""));
      }
      document.getElementById("review-heading").focus();
    } else {
      const pos = Math.min(Math.max(1, target), total);
      view = "question";
      position = pos;
      renderQuestion(pos);
      reviewView.hidden = true;
      questionView.hidden = false;
      document.title = heading.textContent;
      if (push) history.pushState({ view: "question", position: pos }, "", base + pos);
      heading.focus();
      reportPosition(pos);
    }
    updateNavigator();
  }

  let positionTimer = null;
  function reportPosition(pos) {
    // Best effort: where "Resume exam" reopens; every save carries its position too.
    clearTimeout(positionTimer);
    positionTimer = setTimeout(() => {
      fetch(body.dataset.positionUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
          "X-CSRFToken": csrf },
        body: JSON.stringify({ position: pos }),
      }).catch(() => {});
    }, 400);
  }

  function record(item, change) {
    const s = Object.assign({}, stateOf(item), change);
    s.struck = s.struck.slice();
    state[item] = s;
    enqueue({ item: item, choice: s.choice, flagged: s.flagged, struck: s.struck,
      position: position });
    updateNavigator();
  }

  form.addEventListener("change", (ev) => {
    if (ev.target.name !== "choice" || stopped) return;
    const item = questionAt(position).item;
    record(item, { choice: ev.target.value });
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (stopped) return;
    const btn = ev.submitter;
    if (!btn) return; // Enter in a field: nothing to do, changes are already saved
    const item = questionAt(position).item;
    if (btn.name === "strike") {
      const s = stateOf(item);
      const id = btn.value;
      const struck = s.struck.includes(id) ? s.struck.filter((x) => x !== id) : s.struck.concat([id]);
      record(item, { struck: struck });
      btn.setAttribute("aria-pressed", struck.includes(id) ? "true" : "false");
      btn.closest(".option").classList.toggle("struck", struck.includes(id));
      return;
    }
    switch (btn.value) {
      case "flag": {
        const flagged = !stateOf(item).flagged;
        record(item, { flagged: flagged });
        flagBtn.setAttribute("aria-pressed", flagged ? "true" : "false");
        break;
      }
      case "previous": show(position - 1); break;
      case "next": show(position < total ? position + 1 : "review"); break;
      case "review": show("review"); break;
      default: break;
    }
  });

  document.addEventListener("click", (ev) => {
    const link = ev.target.closest("a");
    if (!link || ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey) return;
    if (link.dataset.pos && (link.closest(".nav-grid") || link.closest("#review-list"))) {
      ev.preventDefault();
      const details = link.closest("details");
      if (details) details.open = false;
      show(parseInt(link.dataset.pos, 10));
    } else if (link.dataset.filter) {
      ev.preventDefault();
      show("review", { filter: link.dataset.filter });
    } else if (link.id === "back-to-question") {
      ev.preventDefault();
      show(position);
    } else if (link.id === "submit-link") {
      ev.preventDefault();
      whenDrained(() => window.location.assign(link.href));
    }
  });

  window.addEventListener("popstate", (ev) => {
    const st = ev.state || {};
    if (st.view === "review") show("review", { fromHistory: true, filter: st.filter });
    else if (st.position) show(st.position, { fromHistory: true });
  });
  history.replaceState(view === "review" ? { view: "review", filter: currentFilter() }
    : { view: "question", position: position }, "");

  /* ---------- the countdown ---------- */

  const timerEl = document.getElementById("timer");
  const warningEl = document.getElementById("time-warning");
  const warnings = (body.dataset.warnings || "").split(",").filter(Boolean).map(Number);
  let syncedRemaining = parseFloat(body.dataset.remaining);
  let syncedAt = performance.now();
  const announced = new Set(warnings.filter((m) => syncedRemaining <= m * 60));
  let ending = false;

  function syncClock(remaining) {
    syncedRemaining = remaining;
    syncedAt = performance.now();
  }

  function hms(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
  }

  function tick() {
    const left = syncedRemaining - (performance.now() - syncedAt) / 1000;
    const text = hms(left);
    if (timerEl.textContent !== text) timerEl.textContent = text;
    for (const m of warnings) {
      if (left <= m * 60 && left > 0 && !announced.has(m)) {
        announced.add(m);
        warningEl.textContent = fill(strings.warning, { m: m });
      }
    }
    if (left <= 0 && !ending) {
      ending = true;
      warningEl.textContent = strings.time_up;
      form.querySelectorAll("input, button").forEach((el) => { el.disabled = true; });
      whenEnded();
    }
  }

  async function checkStatus() {
    try {
      const r = await fetch(body.dataset.statusUrl, { headers: { "Accept": "application/json" },
        credentials: "same-origin" });
      if (r.status === 401) { stopped = true; listeners.status.forEach((fn) => fn("signed_out")); return null; }
      if (!r.ok) return null;
      const s = await r.json();
      if (["submitted", "expired", "voided"].includes(s.state)) {
        stopped = true;
        store.clear();
        window.location.assign(s.done_url);
      } else if (s.state === "paused" || s.locked_elsewhere) {
        window.location.reload();
      } else {
        syncClock(s.remaining_s);
      }
      return s;
    } catch (e) {
      return null;
    }
  }

  function whenEnded() {
    // Let queued saves go first (they are accepted for a few seconds of grace), then ask.
    flush();
    const poll = async () => {
      const s = await checkStatus();
      if (!s || !["submitted", "expired", "voided"].includes(s.state)) setTimeout(poll, 1000);
    };
    setTimeout(poll, 500);
  }

  setInterval(tick, 250);
  setInterval(() => { if (!ending) checkStatus(); }, 30000);
  tick();

  /* ---------- start ---------- */

  if (view === "question") {
    const s = stateOf(questionAt(position).item);
    if (queue.some((e) => e.item === questionAt(position).item)) renderQuestion(position);
    flagBtn.setAttribute("aria-pressed", s.flagged ? "true" : "false");
  } else {
    renderReview(currentFilter());
  }
  updateNavigator();
  flush();
  if (paper.images && paper.images.length) {
    window.addEventListener("load", () => { preloadImages(); });
  }
})();
