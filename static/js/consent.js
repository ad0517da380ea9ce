// The fist-of-five consent vote, shared by the purpose and the agreements steps.
//
// 0 blocks, 5 is full support. A score under the facilitator's threshold is an objection
// and needs a reason, which is shown to the room (without a name when the step is
// anonymous). A vote passes when nobody is under the threshold.
import { format, h, keyed } from "./dom.js";
import { keyedKeeping, slots, textField } from "./live.js";

export const SCORES = [0, 1, 2, 3, 4, 5];
// A threshold of 0 would count a block as consent: the facilitator picks from 1 to 5.
const THRESHOLDS = [1, 2, 3, 4, 5];
const REASON_LIMIT = 280;
// An anonymous vote shows its result only from this many votes on (MIN_AGGREGATE).
export const ANONYMOUS_MIN = 3;

/** The label of a fist-of-five score: "0 – block" … "5 – full support". */
export function scoreLabel(T, n) {
  return T[`fist_${n}`];
}

// The facilitator's last chosen threshold, kept for the next vote they call.
let chosenThreshold = 3;

/** The threshold the facilitator chose last (3 until they choose). */
export function currentThreshold() {
  return chosenThreshold;
}

/** A labelled threshold picker (1..5) for a facilitator calling a consent vote. */
export function thresholdPicker(T, id) {
  const select = h("select", { id, "data-focus": id, class: "threshold-select",
    onchange: () => { chosenThreshold = Number(select.value); } },
  THRESHOLDS.map((n) => h("option", { value: n, selected: n === chosenThreshold },
    `${n} – ${scoreLabel(T, n)}`)));
  return {
    select,
    field: h("div", { class: "threshold" },
      h("label", { for: id, text: T.consent_threshold }),
      select,
      h("p", { class: "hint", text: T.consent_threshold_hint })),
    value: () => Number(select.value),
  };
}

/**
 * Render an open consent vote into `el`: what is voted on, who has voted (only how many
 * when anonymous), my ballot, and the facilitator's "close" and "cancel the vote".
 *
 * `key` names the vote ("purpose" or a proposal id) for data-focus keys.
 */
export function renderBallot(el, ctx, { key, index, vote, mine, anonymous, heading, subject, quote }) {
  const { T } = ctx;
  const part = slots(el, `ballot:${key}`, ["head", "voted", "form", "close"]);
  const text = vote.text || quote || "";
  keyed(part.head, JSON.stringify([heading, subject, text, vote.threshold]), () => [
    h("h3", { class: "consent-heading", tabindex: "-1", "data-focus": `ballot-${key}`, text: heading }),
    subject ? h("p", { class: "consent-subject", text: subject }) : null,
    text ? h("blockquote", { class: "consent-text", text }) : null,
    h("p", { class: "threshold-rule" }, format(T.consent_rule, {
      n: vote.threshold, label: scoreLabel(T, vote.threshold) })),
  ]);

  // An anonymous vote says only how many have voted: no names, and no total that the
  // names of who is online would turn into "who has not voted yet".
  const secret = anonymous || !Array.isArray(vote.voted);
  const voted = secret ? [] : vote.voted;
  const count = vote.count ?? voted.length;
  const present = ctx.state.members.filter((m) => m.online || voted.includes(m.id));
  const names = voted.map((id) => ctx.name(id));
  keyed(part.voted, JSON.stringify([secret, count, present.length, names]), () => [
    h("p", { class: "consent-count" }, secret
      ? format(T.consent_voted_anonymous, { count })
      : format(T.consent_voted, { count, total: Math.max(present.length, count) })),
    names.length ? h("ul", { class: "chips", "aria-label": T.consent_voted_by },
      names.map((name) => h("li", { text: name }))) : null,
  ]);

  if (ctx.projector) keyed(part.form, "projector", () => null);
  else {
    keyedKeeping(part.form, JSON.stringify([key, vote.text, vote.threshold, mine]),
      () => ballotForm(ctx, { key, index, vote, mine }));
  }

  const fac = ctx.isFacilitator() && !ctx.projector;
  const enough = count >= (secret ? ANONYMOUS_MIN : 1);
  keyed(part.close, JSON.stringify([fac, enough, secret]), () => (fac ? h("div", {
    class: "facilitator-only" },
  h("p", { class: "facilitator-label", text: T.only_you_see }),
  h("div", { class: "button-row" },
    h("button", { type: "button", class: "button", "data-focus": `consent-close-${key}`,
      "data-focus-fallback": `result-${key} stage-title`, disabled: !enough,
      "aria-describedby": enough ? false : `consent-close-hint-${key}`,
      onclick: () => ctx.send("close_consent", { step: index }) }, T.consent_close),
    h("button", { type: "button", class: "button ghost", "data-focus": `consent-cancel-${key}`,
      "data-focus-fallback": `statement call-${key} proposals-title stage-title`,
      onclick: async (e) => {
        const button = e.currentTarget;
        if (button.disabled || !window.confirm(T.confirm_cancel_vote)) return;
        button.disabled = true;
        const ack = await ctx.send("cancel_consent", { step: index });
        if (!ack.ok) button.disabled = false;
      } }, T.consent_cancel)),
  !enough ? h("p", { class: "hint", id: `consent-close-hint-${key}`, text: secret
    ? format(T.consent_close_hint_anonymous, { n: ANONYMOUS_MIN })
    : T.consent_close_hint }) : null) : null));
}

/** The fist of five as a radio group, and a reason that is required under the threshold. */
function ballotForm(ctx, { key, index, vote, mine }) {
  const { T } = ctx;
  const name = `fist-${key}`;
  const reasonId = `consent-reason-${key}`;
  const reason = textField("textarea", { id: reasonId, rows: 2, maxlength: REASON_LIMIT,
    "data-focus": reasonId, "aria-describedby": `${reasonId}-help` }, mine?.reason || "");
  const label = h("label", { for: reasonId });
  const help = h("p", { class: "hint", id: `${reasonId}-help` });
  const picked = () => form.querySelector(`input[name="${name}"]:checked`);
  const update = () => {
    const score = picked() ? Number(picked().value) : null;
    const needed = score !== null && score < vote.threshold;
    reason.required = needed;
    label.textContent = needed ? T.consent_reason_required : T.consent_reason;
    help.textContent = needed
      ? format(T.consent_reason_needed, { n: vote.threshold })
      : T.consent_reason_optional;
    form.classList.toggle("objecting", needed);
  };
  const options = SCORES.map((n) => h("label", { class: `fist-option fist-${n}` },
    h("input", { type: "radio", name, value: n, required: true, checked: mine?.score === n,
      "data-focus": `fist-${key}-${n}`, onchange: update }),
    h("span", { class: "fist-n", text: n }),
    h("span", { class: "fist-label", text: T[`fist_short_${n}`] })));
  const form = h("form", { class: "consent-form", onsubmit: (e) => {
    e.preventDefault();
    const choice = picked();
    if (!choice) return;
    ctx.send("consent", { step: index, score: Number(choice.value), reason: reason.value.trim() });
  } },
  h("fieldset", { class: "fist" },
    h("legend", { text: T.fist_legend }),
    h("div", { class: "fist-options" }, options)),
  label, help, reason,
  h("div", { class: "button-row" },
    h("button", { type: "submit", class: "button primary", "data-focus": `consent-send-${key}` },
      mine ? T.consent_change : T.consent_send)),
  mine ? h("p", { class: "consent-mine" }, format(T.consent_yours, {
    score: mine.score, label: scoreLabel(T, mine.score) })) : null);
  update();
  return form;
}

/**
 * Return the view of a closed vote: passed or not, the scores as text and bars,
 * the objections with their reasons, and names only when the step is not anonymous.
 */
export function resultView(ctx, result, {
  key, anonymous, heading = null, level = "h3", focus = true, compact = false, note = null,
}) {
  const { T } = ctx;
  const objections = result.objections || [];
  const histogram = result.histogram || [0, 0, 0, 0, 0, 0];
  const most = Math.max(1, ...histogram);
  const scores = !anonymous && result.scores ? Object.entries(result.scores) : [];
  const bars = h("table", { class: "bars fist-bars" },
      h("caption", { class: "visually-hidden", text: T.consent_scores }),
      h("tbody", {}, SCORES.map((n) => h("tr", {},
        h("th", { scope: "row" }, h("span", { class: "fist-n", text: n }), " ",
          h("span", { class: "fist-label", text: T[`fist_short_${n}`] })),
        h("td", {},
          h("span", { class: `bar fist-bar-${n}`, style: { width: `${(histogram[n] / most) * 100}%` } }),
          h("span", { class: "bar-count", text: histogram[n] }))))));
  return h("div", { class: `consent-result ${result.passed ? "passed" : "objected"}` },
    h(level, { tabindex: focus ? "-1" : false, "data-focus": focus ? `result-${key}` : false },
      heading ?? (result.passed ? T.consent_passed : T.consent_not_passed)),
    h("p", { class: "consent-summary" },
      h("span", { class: `badge ${result.passed ? "live" : "warn"}`,
        text: result.passed ? T.consent_badge_passed : T.consent_badge_objected }), " ",
      format(T.consent_summary, { count: result.count ?? 0, objections: objections.length })),
    compact ? h("details", { class: "consent-bars" }, h("summary", { text: T.consent_histogram }), bars)
      : bars,
    objections.length ? [
      h(level === "h3" ? "h4" : "h5", { class: "objections-title", text: T.consent_objections }),
      h("ul", { class: "objections" }, objections.map((o) => h("li", {},
        h("span", { class: "objection-score", text: `${o.score} – ${scoreLabel(T, o.score)}` }),
        o.member !== undefined && o.member !== null && !anonymous
          ? h("span", { class: "objection-who", text: ctx.name(o.member) }) : null,
        h("p", { class: "objection-reason", text: o.reason || T.consent_no_reason })))),
    ] : null,
    scores.length ? h("p", { class: "hint consent-scores" }, format(T.consent_scores_by, {
      scores: scores.map(([id, score]) => `${ctx.name(Number(id))} ${score}`).join(" · ") })) : null,
    note ? h("p", { class: "hint consent-note", text: note }) : null);
}

/** Return the earlier rounds of a vote, folded away, or null when there are none. */
export function roundsView(ctx, rounds, { key, anonymous }) {
  if (!rounds.length) return null;
  const { T } = ctx;
  return h("details", { class: "consent-rounds" },
    h("summary", { text: format(T.consent_earlier, { count: rounds.length }) }),
    h("ol", {}, rounds.map((round, i) => h("li", {},
      round.text ? h("blockquote", { class: "consent-text", text: round.text }) : null,
      resultView(ctx, round, { key: `${key}-round-${i}`, anonymous, level: "h4", focus: false,
        compact: true,
        heading: format(round.passed ? T.consent_round_passed : T.consent_round_objected,
          { n: i + 1 }) })))));
}
