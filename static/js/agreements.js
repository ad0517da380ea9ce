// The working-agreement drafting step: the charter's agreements to keep, amend or retire,
// new agreements proposed by anyone, and one consent vote at a time on a proposal.
import { format, h, keyed } from "./dom.js";
import { currentThreshold, renderBallot, resultView, roundsView, thresholdPicker } from "./consent.js";
import {
  agreementTexts, announce, clear, focusKey, keyedList, sendOnce, short, showDate, slots, textField,
} from "./live.js";

const AGREEMENT_LIMIT = 500;
const EDITABLE = new Set(["open", "objected"]);

/** An agreement is one line: Enter sends the form, pasted line breaks become spaces. */
function oneLine(area, onEnter) {
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      onEnter();
    }
  });
  return () => area.value.replace(/\s+/g, " ").trim();
}

// What only this browser knows: which inline form is open.
const local = { index: null, amending: null, editing: null };
let last = null;
let seen = null;

/** Render the agreement-drafting step into the stage's parts. */
export function renderAgreements(parts, ctx, view) {
  const { step, index } = view;
  if (local.index !== index) Object.assign(local, { index, amending: null, editing: null });
  for (const a of step.agreements) agreementTexts.set(a.id, a.text);
  const mine = view.mine || { consent: null, proposals: [] };
  const v = { ...view, mine, fac: ctx.isFacilitator() && !ctx.projector,
    byId: new Map(step.agreements.map((a) => [a.id, a])) };
  last = { parts, ctx, view };
  if (seen && seen.index === index) announceChanges(ctx, v, seen.step, step);
  seen = { index, step };

  parts.answers.classList.add("charter-step", "agreements-step");
  const s = slots(parts.answers, `agreements:${index}`,
    ["status", "ballot", "current", "propose", "proposals"]);
  renderStatus(s.status, ctx, v);
  renderVote(s.ballot, ctx, v);
  renderCurrent(s.current, ctx, v);
  if (ctx.projector) clear(s.propose);
  else keyed(s.propose, "propose", () => proposeForm(ctx, v));
  renderProposals(s.proposals, ctx, v);
}

function rerender() {
  if (last) renderAgreements(last.parts, last.ctx, last.view);
}

/** "New agreement", "Amend “We …”", "Retire “We …”". */
function describe(ctx, v, proposal) {
  const { T } = ctx;
  const target = proposal.target ? v.byId.get(proposal.target) : null;
  const text = short(target?.text ?? agreementTexts.get(proposal.target) ?? "", 60);
  if (proposal.kind === "amend") return format(T.proposal_amend, { text });
  if (proposal.kind === "retire") return format(T.proposal_retire, { text });
  return T.proposal_add;
}

function announceChanges(ctx, v, before, after) {
  const { T } = ctx;
  const was = new Map(before.proposals.map((p) => [p.id, p]));
  const mineIds = new Set(v.mine.proposals || []);
  for (const p of after.proposals) {
    const old = was.get(p.id);
    if (!old && !mineIds.has(p.id)) announce(format(T.say_new_proposal, { what: describe(ctx, v, p) }));
    if (old && old.status === "voting" && p.status !== "voting") {
      const said = { accepted: T.say_accepted, objected: T.say_objected }[p.status]
        // Back to open without a new round: the facilitator cancelled the vote.
        ?? (p.rounds.length === old.rounds.length ? T.say_vote_cancelled : T.say_objected);
      announce(format(said, { what: describe(ctx, v, p) }));
    }
  }
  if (after.vote && after.vote.proposal !== before.vote?.proposal) {
    const p = after.proposals.find((q) => q.id === after.vote.proposal);
    if (p) announce(format(T.say_consent_on, { what: describe(ctx, v, p) }));
  }
  const decided = new Map(before.agreements.map((a) => [a.id, a.decision]));
  for (const a of after.agreements) {
    if (a.decision === "kept" && decided.get(a.id) !== "kept") {
      announce(format(T.say_kept, { text: short(a.text, 60) }));
    }
  }
}

function renderStatus(el, ctx, v) {
  const { T } = ctx;
  const { step } = v;
  keyed(el, JSON.stringify([step.accepted, step.anonymous, ctx.projector]), () => [
    h("p", { class: "hint", text: T.agreements_hint }),
    step.accepted ? h("p", { class: "callout" }, format(T.accepted_count, { count: step.accepted })) : null,
    step.anonymous ? h("p", { class: "tag-line" },
      h("span", { class: "tag", text: T.anonymous_step }), " ", T.anonymous_help) : null,
  ]);
}

function renderVote(el, ctx, v) {
  const { step, index, mine } = v;
  const proposal = step.vote && step.proposals.find((p) => p.id === step.vote.proposal);
  if (!proposal) return clear(el);
  renderBallot(el, ctx, { key: proposal.id, index, vote: step.vote, mine: mine.consent,
    anonymous: step.anonymous, heading: ctx.T.consent_on_proposal,
    subject: describe(ctx, v, proposal),
    quote: proposal.kind === "retire" ? v.byId.get(proposal.target)?.text : proposal.text });
}

// -- the charter's agreements -------------------------------------------------------------

function renderCurrent(el, ctx, v) {
  const { T } = ctx;
  const { step } = v;
  const pending = step.proposals.filter((p) => p.target && (p.status === "open" || p.status === "voting"))
    .map((p) => p.target);
  v.becomes = Object.fromEntries(step.proposals
    .filter((p) => p.status === "accepted" && p.kind === "amend").map((p) => [p.target, p.text]));
  const part = slots(el, "current", ["head", "list"]);
  keyed(part.head, JSON.stringify([step.agreements.length]), () => [
    h("h3", { id: "agreements-title", tabindex: "-1", "data-focus": "agreements-title" },
      T.current_agreements, " ", h("span", { class: "count", text: `(${step.agreements.length})` })),
    step.agreements.length ? null : h("p", { class: "hint", text: T.no_agreements }),
  ]);
  keyed(part.list, "list", () => h("ul", { class: "agreements" }));
  keyedList(part.list.firstElementChild, step.agreements.map((a) => {
    const waiting = pending.filter((t) => t === a.id).length;
    return { id: a.id, key: JSON.stringify([a, waiting, v.becomes[a.id] ?? null, local.amending === a.id,
      v.fac, ctx.projector, step.flags?.[a.id] ?? null]), build: () => agreementItem(ctx, v, a, waiting) };
  }));
}

function agreementItem(ctx, v, agreement, pendingCount) {
  const { T } = ctx;
  const { index } = v;
  const id = agreement.id;
  const decided = agreement.decision === "amended" || agreement.decision === "retired";
  const open = local.amending === id;
  const actions = ctx.projector || decided ? null : h("div", { class: "card-actions" },
    v.fac && agreement.decision !== "kept" ? h("button", { type: "button", class: "button small",
      "data-focus": `keep-${id}`, "data-focus-fallback": `amend-${id}`, "aria-describedby": `agreement-${id}`,
      onclick: () => ctx.send("keep", { step: index, agreement: id }) }, T.keep) : null,
    h("button", { type: "button", class: "button small", "data-focus": `amend-${id}`,
      "aria-expanded": open ? "true" : "false", "aria-describedby": `agreement-${id}`, onclick: () => {
        local.amending = open ? null : id;
        rerender();
        focusKey(open ? `amend-${id}` : `amend-text-${id}`);
      } }, T.propose_amendment),
    h("button", { type: "button", class: "button small ghost", "data-focus": `retire-${id}`,
      "aria-describedby": `agreement-${id}`,
      onclick: (e) => {
        const button = e.currentTarget;
        if (button.disabled) return;
        if (!window.confirm(format(T.confirm_retire, { text: short(agreement.text, 120) }))) return;
        sendOnce(ctx, button, "propose", { step: index, kind: "retire", target: id, text: "",
          review_date: "" });
      } }, T.propose_retire));
  return h("li", { class: `agreement decision-${agreement.decision}` },
    h("div", { class: "agreement-head" },
      h("p", { class: "agreement-text", id: `agreement-${id}`, text: agreement.text }),
      h("span", { class: `badge decision ${agreement.decision}`, text: T[`decision_${agreement.decision}`] })),
    // Flagged by the team's last agreements check, or past its review date: look at it again.
    (v.step.flags?.[id] || []).length ? h("p", { class: "check-flags" },
      v.step.flags[id].map((f) => [h("span", { class: `badge flag ${f}`, text: T[`flag_${f}`] }), " "]))
      : null,
    agreement.decision === "amended" && v.becomes[id] ? h("p", { class: "agreement-becomes" },
      h("span", { class: "becomes-label", text: T.becomes }), " ", v.becomes[id]) : null,
    agreement.review_date || pendingCount ? h("p", { class: "hint small" },
      agreement.review_date ? format(T.review_by, { date: showDate(agreement.review_date) }) : null,
      agreement.review_date && pendingCount ? " · " : null,
      pendingCount ? format(T.proposals_pending, { count: pendingCount }) : null) : null,
    actions,
    open && !ctx.projector ? amendForm(ctx, v, agreement) : null);
}

function dateField(T, id, value) {
  return [
    h("label", { for: id, text: T.review_date_optional }),
    h("input", { type: "date", id, "data-focus": id, value: value || "", class: "date-input" }),
  ];
}

function amendForm(ctx, v, agreement) {
  const { T } = ctx;
  const id = agreement.id;
  const area = textField("textarea", { id: `amend-text-${id}`, rows: 2, maxlength: AGREEMENT_LIMIT,
    "data-focus": `amend-text-${id}` }, agreement.text);
  const [dateLabel, date] = dateField(T, `amend-date-${id}`, agreement.review_date);
  const close = () => {
    local.amending = null;
    rerender();
    focusKey(`amend-${id}`);
  };
  area.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  const read = oneLine(area, () => form.requestSubmit());
  const submit = h("button", { type: "submit", class: "button primary", "data-focus": `amend-send-${id}` },
    T.send_amendment);
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
    e.preventDefault();
    const text = read();
    if (!text) return area.focus();
    const ack = await sendOnce(ctx, submit, "propose", { step: v.index, kind: "amend", target: id,
      text, review_date: date.value || "" });
    if (ack.ok) close();
  } },
  h("label", { for: `amend-text-${id}`, text: T.amended_text }),
  area, dateLabel, date,
  h("div", { class: "button-row" },
    submit,
    h("button", { type: "button", class: "button ghost", onclick: close }, T.cancel)));
  return form;
}

// -- proposing a new agreement -----------------------------------------------------------------

function proposeForm(ctx, v) {
  const { T } = ctx;
  const area = textField("textarea", { id: "new-agreement", rows: 2, maxlength: AGREEMENT_LIMIT,
    "data-focus": "new-agreement", placeholder: T.new_agreement_placeholder,
    "aria-describedby": "new-agreement-hint" });
  const [dateLabel, date] = dateField(T, "new-agreement-date", "");
  const read = oneLine(area, () => form.requestSubmit());
  const submit = h("button", { type: "submit", class: "button primary", "data-focus": "new-agreement-send" },
    T.propose);
  const form = h("form", { class: "propose-form", onsubmit: async (e) => {
    e.preventDefault();
    const text = read();
    if (!text) return area.focus();
    const ack = await sendOnce(ctx, submit, "propose", { step: v.index, kind: "add", target: null,
      text, review_date: date.value || "" });
    if (ack.ok) {
      area.value = "";
      date.value = "";
    }
  } },
  h("h3", {}, h("label", { for: "new-agreement", text: T.propose_new })),
  h("p", { class: "hint", id: "new-agreement-hint", text: T.new_agreement_hint }),
  area,
  h("div", { class: "date-row" }, dateLabel, date),
  h("div", { class: "button-row" }, submit));
  return form;
}

// -- proposals ---------------------------------------------------------------------------------

function renderProposals(el, ctx, v) {
  const { T } = ctx;
  const { step, mine } = v;
  const callable = v.fac && !step.vote && step.proposals.some((p) => EDITABLE.has(p.status));
  const part = slots(el, "proposals", ["head", "threshold", "list"]);
  keyed(part.head, JSON.stringify([step.proposals.length]), () => [
    h("h3", { id: "proposals-title", tabindex: "-1", "data-focus": "proposals-title" },
      T.proposals, " ", h("span", { class: "count", text: `(${step.proposals.length})` })),
    step.proposals.length ? null : h("p", { class: "hint", text: T.no_proposals }),
  ]);
  keyed(part.threshold, String(callable), () => (callable ? h("div", { class: "facilitator-only" },
    h("p", { class: "facilitator-label", text: T.only_you_see }),
    thresholdPicker(T, "proposal-threshold").field) : null));
  keyed(part.list, "list", () => h("ol", { class: "proposals" }));
  keyedList(part.list.firstElementChild, step.proposals.map((p) => ({
    id: p.id,
    key: JSON.stringify([p, v.byId.get(p.target) ?? null, (mine.proposals || []).includes(p.id),
      local.editing === p.id, callable, v.fac, ctx.projector, step.anonymous]),
    build: () => proposalItem(ctx, v, p, callable),
  })));
}

function proposalItem(ctx, v, proposal, callable) {
  const { T } = ctx;
  const { step, index, mine } = v;
  const id = proposal.id;
  const own = (mine.proposals || []).includes(id);
  const editable = (own || v.fac) && EDITABLE.has(proposal.status) && !ctx.projector;
  const rounds = proposal.rounds || [];
  const latest = rounds.length ? rounds[rounds.length - 1] : null;
  const author = !step.anonymous && proposal.author !== undefined && proposal.author !== null
    ? ctx.name(proposal.author) : null;
  const meta = [
    proposal.review_date ? format(T.review_by, { date: showDate(proposal.review_date) }) : null,
    author ? format(T.proposed_by, { name: author }) : null,
    own ? T.proposed_by_you : null,
  ].filter(Boolean);
  const editing = local.editing === id && editable && proposal.kind !== "retire";
  const actions = editable ? h("div", { class: "card-actions" },
    callable ? h("button", { type: "button", class: "button small primary",
      "data-focus": `call-${id}`, "data-focus-fallback": `ballot-${id}`, "aria-describedby": `proposal-${id}`,
      onclick: () => ctx.send("call_consent", { step: index, threshold: currentThreshold(), proposal: id }) },
    T.call_consent) : null,
    proposal.kind !== "retire" && !editing ? h("button", { type: "button", class: "button small",
      "data-focus": `edit-proposal-${id}`, "aria-describedby": `proposal-${id}`, onclick: () => {
        local.editing = id;
        rerender();
        focusKey(`proposal-text-${id}`);
      } }, T.amend_proposal) : null,
    h("button", { type: "button", class: "button small ghost", "data-focus": `withdraw-${id}`,
      "data-focus-fallback": `proposals-title`, "aria-describedby": `proposal-${id}`,
      onclick: () => ctx.send("withdraw", { step: index, proposal: id }) }, T.withdraw)) : null;

  return h("li", { class: `proposal status-${proposal.status}` },
    h("div", { class: "proposal-head" },
      h("span", { class: "proposal-kind", text: describe(ctx, v, proposal) }),
      h("span", { class: `badge status ${proposal.status}`, text: T[`status_${proposal.status}`] })),
    editing ? editForm(ctx, v, proposal) : h("p", { class: "proposal-text", id: `proposal-${id}`,
      text: proposal.kind === "retire"
        ? (v.byId.get(proposal.target)?.text ?? "") : proposal.text }),
    meta.length ? h("p", { class: "hint small", text: meta.join(" · ") }) : null,
    proposal.status === "voting" ? h("p", { class: "callout small", text: T.being_voted }) : null,
    proposal.status === "superseded" ? h("p", { class: "hint small", text: T.superseded_hint }) : null,
    latest && proposal.status !== "voting" ? resultView(ctx, latest, { key: id, anonymous: step.anonymous,
      level: "h4", compact: true,
      heading: latest.passed ? T.consent_passed : T.consent_not_passed }) : null,
    roundsView(ctx, latest && proposal.status !== "voting" ? rounds.slice(0, -1) : rounds,
      { key: id, anonymous: step.anonymous }),
    actions);
}

function editForm(ctx, v, proposal) {
  const { T } = ctx;
  const id = proposal.id;
  const area = textField("textarea", { id: `proposal-text-${id}`, rows: 2, maxlength: AGREEMENT_LIMIT,
    "data-focus": `proposal-text-${id}` }, proposal.text);
  const close = () => {
    local.editing = null;
    rerender();
    focusKey(`edit-proposal-${id}`);
  };
  area.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  const read = oneLine(area, () => form.requestSubmit());
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
    e.preventDefault();
    const text = read();
    if (!text) return area.focus();
    const ack = await ctx.send("amend_proposal", { step: v.index, proposal: id, text });
    if (ack.ok) close();
  } },
  h("label", { for: `proposal-text-${id}`, text: T.proposal_text }),
  area,
  h("div", { class: "button-row" },
    h("button", { type: "submit", class: "button primary", "data-focus": `proposal-save-${id}` }, T.save),
    h("button", { type: "button", class: "button ghost", onclick: close }, T.cancel)));
  return form;
}
