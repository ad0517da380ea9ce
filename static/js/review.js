// Looking back at the start of a room: the deeds review (each open deed of the team is
// marked done, carried over or dropped with a reason) and the agreements check (an
// anonymous 1-5 "are we keeping it?" for every agreement, shown as team totals only).
//
// Like the other steps, every part is rebuilt only when the data it shows changes, and
// each control has a stable data-focus key so that focus survives live updates.
import { format, h, keyed } from "./dom.js";
import {
  announce, clear, facilitatorBox, focusKey, keyedList, short, showDate, showNumber, slots, textField,
} from "./live.js";

const REASON_LIMIT = 280;
// Results show from this many answers on (MIN_AGGREGATE on the server).
const MIN_ANSWERS = 3;
const SCORES = [1, 2, 3, 4, 5];

// What only this browser knows: the deed whose "Drop" asks for a reason.
const local = { index: null, dropping: null };
let lastReview = null;
let seenReview = null;
let seenCheck = null;

/**
 * The day deeds count as overdue from: the team's date when the step opened (the server's
 * one "today", in the team's time zone, as on the team page), or else, for a step stored
 * before it carried one, this device's day on the server's clock.
 */
function today(ctx, step) {
  if (step.today) return step.today;
  const d = new Date(Date.now() + (ctx.clockOffset || 0));
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// -- the deeds review ------------------------------------------------------------------------

/** Render the deeds-review step into the stage's parts. */
export function renderDeedsReview(parts, ctx, view) {
  const { step, index } = view;
  if (local.index !== index) Object.assign(local, { index, dropping: null });
  lastReview = { parts, ctx, view };
  if (seenReview && seenReview.index === index) announceDecisions(ctx, seenReview.step, step);
  seenReview = { index, step };
  const deeds = step.deeds || [];
  const day = today(ctx, step);

  parts.answers.classList.add("charter-step", "review-step");
  const s = slots(parts.answers, `deeds-review:${index}`, ["status", "list"]);
  const { T } = ctx;
  keyed(s.status, JSON.stringify([deeds.length, step.decided, ctx.projector]), () => (deeds.length ? [
    h("p", { class: "callout", id: "decided-count" },
      format(T.deeds_decided, { count: step.decided ?? 0, total: deeds.length })),
    ctx.projector ? null : h("p", { class: "hint", text: T.deeds_review_hint }),
  ] : h("p", { class: "callout", text: T.no_open_deeds })));
  keyed(s.list, "list", () => h("ul", { class: "deeds review-deeds", "aria-describedby": "decided-count" }));
  keyedList(s.list.firstElementChild, deeds.map((deed) => ({
    id: String(deed.id),
    key: JSON.stringify([deed, deed.by === null ? null : ctx.name(deed.by), local.dropping === deed.id,
      ctx.projector, day]),
    build: () => reviewItem(ctx, view, deed, day),
  })));
}

function rerenderReview() {
  if (lastReview) renderDeedsReview(lastReview.parts, lastReview.ctx, lastReview.view);
}

function announceDecisions(ctx, before, after) {
  const was = new Map((before.deeds || []).map((d) => [d.id, d.decision]));
  for (const deed of after.deeds || []) {
    if (!was.has(deed.id) || was.get(deed.id) === deed.decision) continue;
    // My own decisions show where I made them; the others' are read out.
    if (deed.decision !== null && deed.by === ctx.memberId) continue;
    announce(format(ctx.T[`say_deed_${deed.decision ?? "open"}`], { text: short(deed.text, 80) }));
  }
}

function reviewItem(ctx, view, deed, day) {
  const { T } = ctx;
  const { index } = view;
  const id = deed.id;
  const overdue = !deed.decision && deed.due && deed.due < day;
  const decide = (decision, reason = "") => ctx.send("decide_deed", { step: index, deed: id, decision, reason });
  const button = (decision, label, attrs = {}) => h("button", { type: "button", class: "button small",
    "data-focus": `review-${decision}-${id}`, "data-focus-fallback": `review-undo-${id}`,
    "aria-describedby": `review-deed-${id}`, onclick: () => decide(decision), ...attrs }, label);
  let actions = null;
  if (!ctx.projector && deed.decision) {
    actions = h("div", { class: "card-actions" },
      h("button", { type: "button", class: "button small ghost", "data-focus": `review-undo-${id}`,
        "data-focus-fallback": `review-done-${id}`, "aria-describedby": `review-deed-${id}`,
        onclick: () => decide("open") }, T.undo));
  } else if (!ctx.projector && local.dropping === id) {
    actions = dropForm(ctx, view, deed);
  } else if (!ctx.projector) {
    actions = h("div", { class: "card-actions decision-buttons" },
      button("done", T.decide_done, { class: "button small primary" }),
      button("carry", T.decide_carry),
      // Not a disclosure (no aria-expanded): the form that asks why takes the button's place.
      h("button", { type: "button", class: "button small ghost", "data-focus": `review-drop-${id}`,
        "aria-describedby": `review-deed-${id}`, onclick: () => {
          local.dropping = id;
          rerenderReview();
          focusKey(`review-reason-${id}`);
        } }, T.decide_drop));
  }
  const by = deed.by !== null && deed.by !== undefined ? ctx.name(deed.by) : null;
  return h("li", { class: `deed review-deed decision-${deed.decision || "open"}`, "data-deed": id },
    h("div", { class: "deed-head" },
      h("p", { class: "deed-text", id: `review-deed-${id}`, text: deed.text }),
      deed.decision ? h("span", { class: `badge decision-badge ${deed.decision}`,
        text: T[`decided_${deed.decision}`] }) : null),
    h("ul", { class: "deed-meta" },
      h("li", {}, h("span", { class: "meta-label", text: T.deed_owner_label }), " ",
        h("strong", { text: deed.owner || T.owner_everyone })),
      deed.due ? h("li", {}, h("span", { class: "meta-label", text: T.deed_due_label }), " ",
        h("strong", { text: showDate(deed.due) }),
        overdue ? [" ", h("span", { class: "badge overdue", text: T.overdue })] : null) : null,
      deed.room || deed.room_date ? h("li", {}, h("span", { class: "meta-label", text: T.deed_from_label }),
        " ", h("span", { text: deed.room || format(T.room_on_date, { date: showDate(deed.room_date) }) }))
        : null,
      deed.carried ? h("li", { class: "deed-carried" }, deed.carried === 1 ? T.carried_once
        : format(T.carried_times, { n: deed.carried })) : null,
      deed.agreement_text ? h("li", {}, h("span", { class: "meta-label", text: T.deed_agreement_label }), " ",
        h("span", { text: deed.agreement_text })) : null),
    deed.decision ? h("p", { class: "decision-line" },
      deed.decision === "drop" && deed.reason ? [h("span", { class: "meta-label", text: T.drop_reason_label }),
        " ", h("span", { class: "drop-reason", text: deed.reason }), " "] : null,
      by ? h("span", { class: "hint small", text: format(T.decided_by, { name: by }) }) : null) : null,
    actions);
}

/** "Drop" asks why, inline: a reason is required. */
function dropForm(ctx, view, deed) {
  const { T } = ctx;
  const id = deed.id;
  const fieldId = `review-reason-${id}`;
  const reason = textField("input", { type: "text", id: fieldId, "data-focus": fieldId, maxlength: REASON_LIMIT,
    required: true, autocomplete: "off", "aria-describedby": `${fieldId}-help` });
  const close = () => {
    local.dropping = null;
    rerenderReview();
    focusKey(`review-drop-${id}`);
  };
  reason.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  return h("form", { class: "inline-form drop-form", onsubmit: async (e) => {
    e.preventDefault();
    const text = reason.value.replace(/\s+/g, " ").trim();
    if (!text) {
      reason.value = "";
      reason.reportValidity();
      return reason.focus();
    }
    const ack = await ctx.send("decide_deed", { step: view.index, deed: id, decision: "drop", reason: text });
    if (ack.ok) {
      local.dropping = null;
      rerenderReview();
      focusKey(`review-undo-${id}`);
    }
  } },
  h("label", { for: fieldId, text: T.drop_reason }),
  h("p", { class: "hint small", id: `${fieldId}-help`, text: T.drop_reason_help }),
  reason,
  h("div", { class: "button-row" },
    h("button", { type: "submit", class: "button danger", "data-focus": `review-drop-send-${id}` }, T.drop_deed),
    h("button", { type: "button", class: "button ghost", onclick: close }, T.cancel)));
}

// -- the agreements check --------------------------------------------------------------------------

/** Render the agreements-check step into the stage's parts. */
export function renderAgreementsCheck(parts, ctx, view) {
  const { T } = ctx;
  const { step, index } = view;
  const mine = { rated: false, ...(view.mine || {}) };
  const fac = ctx.isFacilitator() && !ctx.projector;
  const agreements = step.agreements || [];
  const results = step.results || { ready: false };
  if (seenCheck && seenCheck.index === index) announceCheck(ctx, fac, seenCheck.step, step);
  seenCheck = { index, step };

  parts.answers.classList.add("charter-step", "check-step");
  const s = slots(parts.answers, `agreements-check:${index}`, ["status", "controls", "form", "list"]);
  keyed(s.status, JSON.stringify([agreements.length, step.answered, step.revealed, step.threshold,
    mine.rated, ctx.projector]), () => (agreements.length ? [
    h("p", { class: "callout", id: "check-answered" }, format(T.check_answered, { count: step.answered ?? 0 })),
    h("p", { class: "hint" }, T.check_help, " ", format(T.check_threshold, { n: step.threshold })),
    h("p", { class: "tag-line" }, h("span", { class: "tag", text: T.anonymous_step }), " ", T.check_anonymous),
  ] : h("p", { class: "callout", text: T.check_no_agreements })));

  const enough = (step.answered ?? 0) >= MIN_ANSWERS;
  keyed(s.controls, JSON.stringify([fac, step.revealed, enough, agreements.length]), () =>
    (fac && !step.revealed && agreements.length ? facilitatorBox(T,
      h("button", { type: "button", class: "button primary", "data-focus": "check-reveal",
        "data-focus-fallback": "check-results-title stage-title", disabled: !enough,
        "aria-describedby": "check-reveal-hint",
        onclick: () => ctx.send("reveal", { step: index }) }, T.check_reveal),
      h("p", { class: "hint small", id: "check-reveal-hint",
        text: enough ? T.check_reveal_hint : format(T.check_reveal_wait, { n: MIN_ANSWERS }) })) : null));

  const showForm = !ctx.projector && !mine.rated && !step.revealed && agreements.length > 0;
  if (!showForm) {
    keyed(s.form, JSON.stringify([ctx.projector, mine.rated, step.revealed]), () => (ctx.projector
      || !agreements.length ? null : h("p", { class: "callout small check-done", tabindex: "-1",
      "data-focus": "check-done", text: mine.rated ? T.check_thanks : T.check_closed })));
  } else {
    keyed(s.form, JSON.stringify(["form", agreements]), () => pulseForm(ctx, view, agreements));
  }

  // The list: every agreement with its flags, and its team result once revealed. While the
  // form is shown it lists the agreements already, so the list waits until I answered.
  if (showForm && !step.revealed) clear(s.list);
  else {
    keyed(s.list, JSON.stringify([agreements, results, step.revealed]), () => resultsList(ctx, step,
      agreements, results));
  }
}

function announceCheck(ctx, fac, before, after) {
  const { T } = ctx;
  // The facilitator waits for answers before the reveal: hear them come in (a count only).
  if (fac && after.answered > before.answered) {
    announce(format(T.say_check_answered, { count: after.answered }));
  }
  // The reveal closes the check for everyone: say what is shown now.
  if (after.revealed && !before.revealed) {
    const results = after.results || {};
    announce(results.ready ? format(T.check_results, { count: results.count }) : T.scales_too_few);
  }
}

function pulseForm(ctx, view, agreements) {
  const { T } = ctx;
  const groups = agreements.map((a) => h("fieldset", { class: "pulse" },
    h("legend", {}, h("span", { class: "pulse-agreement", text: a.text }),
      (a.flags || []).includes("review_due") ? [" ", h("span", { class: "badge flag review_due",
        text: T.flag_review_due })] : null),
    h("div", { class: "pulse-options" }, SCORES.map((n) => h("label", { class: "pulse-option" },
      h("input", { type: "radio", name: `pulse-${a.id}`, value: n, required: true,
        "data-focus": `pulse-${a.id}-${n}`, "data-focus-fallback": "check-done",
        "aria-describedby": "pulse-scale-help" }),
      h("span", { class: "pulse-n", text: n }),
      n === 1 || n === 5 ? h("span", { class: "pulse-label", text: n === 1 ? T.pulse_1 : T.pulse_5 }) : null)))));
  return h("form", { class: "pulse-form", onsubmit: (e) => {
    e.preventDefault();
    const values = {};
    for (const a of agreements) {
      const picked = e.target.querySelector(`input[name="pulse-${CSS.escape(a.id)}"]:checked`);
      if (!picked) return;
      values[a.id] = Number(picked.value);
    }
    ctx.send("pulse", { step: view.index, values });
  } },
  h("h3", { text: T.check_question }),
  h("p", { class: "hint", id: "pulse-scale-help", text: T.pulse_scale_help }),
  groups,
  h("div", { class: "button-row" },
    h("button", { type: "submit", class: "button primary", "data-focus": "pulse-send",
      "data-focus-fallback": "check-done" }, T.send_scales)));
}

function resultsList(ctx, step, agreements, results) {
  const { T } = ctx;
  if (!agreements.length) return null;
  const shown = step.revealed && results.ready;
  const flagged = agreements.some((a) => (a.flags || []).length);
  return [
    h("h3", { id: "check-results-title", tabindex: "-1", "data-focus": "check-results-title" }, shown
      ? format(T.check_results, { count: results.count }) : T.check_agreements),
    step.revealed && !results.ready ? h("p", { class: "hint", text: T.scales_too_few }) : null,
    h("ul", { class: "check-results" }, agreements.map((a) => {
      const data = shown ? results.scales?.[a.id] : null;
      const flags = a.flags || [];
      // Bars are shares of everyone who answered, so that 1 of 3 never looks like "all".
      const total = data ? Math.max(1, data.count ?? data.distribution.reduce((n, c) => n + c, 0)) : 1;
      return h("li", { class: `check-result${flags.includes("low") ? " low" : ""}`, "data-agreement": a.id },
        h("div", { class: "agreement-head" },
          h("p", { class: "agreement-text", text: a.text }),
          data && data.average !== null ? h("span", { class: "check-average",
            text: format(T.average, { value: showNumber(data.average) }) }) : null),
        flags.length || a.review_date ? h("p", { class: "check-flags" },
          flags.map((f) => [h("span", { class: `badge flag ${f}`, text: T[`flag_${f}`] }), " "]),
          a.review_date ? h("span", { class: "hint small", text: format(T.review_by, {
            date: showDate(a.review_date) }) }) : null) : null,
        data ? h("table", { class: "bars pulse-bars" },
          h("caption", { class: "visually-hidden", text: format(T.check_distribution, { text: short(a.text, 60) }) }),
          h("tbody", {}, data.distribution.map((count, i) => h("tr", {},
            h("th", { scope: "row", text: i + 1 }),
            h("td", {}, h("span", { class: "bar", style: { width: `${(count / total) * 100}%` } }),
              h("span", { class: "bar-count", text: count })))))) : null);
    })),
    flagged ? h("p", { class: "hint", text: T.check_flags_note }) : null,
  ];
}
