// The purpose-alignment step: write (private until the reveal), group, dot-vote, draft the
// statement live, ratify it by consent.
//
// Like the other steps, every slot is rebuilt only when the data it shows changes, and
// each control has a stable data-focus key so that focus survives live updates. The card
// board (my cards while writing, grouping, the dot vote) is board.js, shared with the
// retrospective step.
import {
  addCardForm, cardBoard, cardIndex, closeVoting, compactCards, groupName, phaseSteps, rankBar,
  revealCards, voteBoard, votesLeft, writersOf, writingStatus,
} from "./board.js";
import { renderBallot, resultView, roundsView, thresholdPicker } from "./consent.js";
import { format, h, keyed } from "./dom.js";
import { announce, clear, facilitatorBox, keyedKeeping, slots, textField } from "./live.js";

const PHASES = ["write", "group", "vote", "draft", "consent", "ratified"];
const EARLY = new Set(["write", "group", "vote"]);
const COLUMNS = ["exists", "bring"];
const STATEMENT_LIMIT = 2000;
const DRAFT_DELAY = 400;

// What only this browser knows: the card being edited, and the statement being typed.
const local = { index: null, editing: null, dragging: null };
const draft = { timer: null, pending: null, sent: null, inflight: 0 };
let last = null; // the arguments of the last render, to render again after a local change
let seen = null; // the step as last rendered, to announce what changed
const stepBoard = cardBoard({ local, rerender });

/** Render the purpose-alignment step into the stage's parts. */
export function renderPurpose(parts, ctx, view) {
  const { step, index } = view;
  if (local.index !== index) {
    Object.assign(local, { index, editing: null, dragging: null });
    Object.assign(draft, { pending: null, sent: null });
  }
  const own = view.mine || { cards: [], votes: {}, consent: null };
  // The private view comes with one's own commands only: the budget the facilitator set
  // when voting opened is worked out here from the public step.
  const mine = { ...own, votes_left: votesLeft(step, own.votes) };
  const v = { ...view, mine, fac: ctx.isFacilitator() && !ctx.projector };
  last = { parts, ctx, view };
  if (seen && seen.index === index) announceChanges(ctx, seen.step, step);
  seen = { index, step };

  const early = EARLY.has(step.phase);
  parts.answers.classList.add("charter-step", "purpose-step");
  // What matters most comes first: the cards while writing, grouping and voting; then the
  // statement and its vote; and after an objection, the objections before the editor.
  const amending = step.phase === "draft" && (step.rounds || []).length > 0;
  const layout = early ? "early" : amending ? "amending" : "late";
  const s = slots(parts.answers, `purpose:${index}:${layout}`, {
    early: ["phases", "status", "controls", "write", "board", "statement", "result", "rounds"],
    amending: ["phases", "status", "controls", "result", "statement", "ballot", "rounds", "board"],
    late: ["phases", "status", "controls", "statement", "ballot", "result", "rounds", "board"],
  }[layout]);
  // A consent vote called straight from grouping skipped the dot vote: no ranking exists.
  const past = PHASES.indexOf(step.phase) > PHASES.indexOf("vote");
  const skipped = past && !(step.results || []).length ? ["vote"] : [];
  keyed(s.phases, `${step.phase}:${skipped}`, () => phaseSteps(ctx.T, PHASES, step.phase, skipped));
  renderStatus(s.status, ctx, v);
  renderControls(s.controls, ctx, v);
  if (s.write) renderWrite(s.write, ctx, v);
  renderBoard(s.board, ctx, v);
  renderStatement(s.statement, ctx, v);
  if (s.ballot) renderVote(s.ballot, ctx, v);
  renderResult(s.result, s.rounds, ctx, v);
}

function rerender() {
  if (last) renderPurpose(last.parts, last.ctx, last.view);
}

function announceChanges(ctx, before, after) {
  const { T } = ctx;
  if (before.phase === after.phase) return;
  const said = {
    group: T.say_cards_revealed,
    vote: format(T.say_voting_open, { n: after.votes_per_person }),
    // Back from a vote with no new round: the facilitator cancelled it.
    draft: before.phase !== "consent" ? T.say_voting_closed
      : (after.rounds || []).length > (before.rounds || []).length ? T.say_not_ratified
        : T.say_vote_cancelled,
    consent: T.say_consent_called,
    ratified: T.say_ratified,
  };
  announce(said[after.phase]);
}

// -- what is going on, and the facilitator's controls --------------------------------------

function renderStatus(el, ctx, v) {
  const { T } = ctx;
  const { step, mine } = v;
  const written = COLUMNS.reduce((n, c) => n + (step.written?.[c] || 0), 0);
  const writers = writersOf(ctx, step);
  const voting = step.phase === "vote" && !ctx.projector;
  keyed(el, JSON.stringify([step.phase, step.anonymous, written, writers, v.fac, ctx.projector,
    voting ? [mine.votes_left, step.voters] : step.voters]), () => {
    const anon = step.anonymous ? h("p", { class: "tag-line" },
      h("span", { class: "tag", text: T.anonymous_step }), " ", T.anonymous_help) : null;
    if (step.phase === "write") {
      return [
        writingStatus(T, written, writers),
        h("p", { class: "hint", text: ctx.projector ? T.purpose_write_projector : T.purpose_write_hint }),
        anon,
      ];
    }
    if (step.phase === "group") {
      return [h("p", { class: "hint", text: ctx.projector ? T.purpose_group_projector : T.purpose_group_hint }),
        anon];
    }
    if (step.phase === "vote") {
      const total = step.votes_per_person;
      return [
        voting ? h("p", { class: "callout" }, format(T.dots_left, { left: mine.votes_left, total })) : null,
        h("p", { class: "hint" }, format(T.dots_voters, { count: step.voters ?? 0 }), " ",
          T.dots_hidden),
      ];
    }
    if (step.phase === "draft") {
      return h("p", { class: "hint", text: v.fac ? T.draft_hint_facilitator : T.draft_hint });
    }
    return null;
  });
}

function renderControls(el, ctx, v) {
  const { T } = ctx;
  const { step, index } = v;
  keyed(el, JSON.stringify([v.fac, step.phase, step.votes_per_person]), () => {
    if (!v.fac) return null;
    const box = (...children) => facilitatorBox(T, ...children);
    if (step.phase === "write") return box(revealCards(ctx, index, "stage-title"));
    if (step.phase === "group") {
      const select = h("select", { id: "dots-per-person", "data-focus": "dots-per-person" },
        Array.from({ length: 10 }, (_, i) => i + 1).map((n) => h("option", { value: n,
          selected: n === (step.votes_per_person || 3) }, n)));
      return box(
        h("div", { class: "inline-field" },
          h("label", { for: "dots-per-person", text: T.dots_per_person }), select),
        h("div", { class: "button-row" },
          h("button", { type: "button", class: "button primary", "data-focus": "open-voting",
            "data-focus-fallback": "close-voting",
            onclick: () => ctx.send("open_voting", { step: index, votes: Number(select.value) }) },
          T.open_voting)),
        h("p", { class: "hint", text: T.skip_voting_hint }));
    }
    if (step.phase === "vote") return box(closeVoting(ctx, index, "statement"));
    return null;
  });
}

// -- writing: two columns, my own cards, the others' only as a count ----------------------

function renderWrite(el, ctx, v) {
  const { T } = ctx;
  const { step, mine } = v;
  if (step.phase !== "write") return clear(el);
  el.classList.add("purpose-columns");
  const columns = slots(el, `write:${v.index}:${ctx.projector}`, COLUMNS);
  for (const column of COLUMNS) {
    const part = slots(columns[column], "column", ["head", "mine", "add"]);
    columns[column].classList.add("purpose-column");
    const own = mine.cards.filter((c) => c.column === column);
    const others = Math.max(0, (step.written?.[column] || 0) - own.length);
    keyed(part.head, JSON.stringify([others, ctx.projector]), () => [
      h("h3", { id: `column-${column}`, text: T[`column_${column}`] }),
      h("p", { class: "hint" }, ctx.projector
        ? format(T.cards_in_column, { count: step.written?.[column] || 0 })
        : format(T.others_wrote, { count: others })),
    ]);
    if (ctx.projector) continue;
    keyedKeeping(part.mine, JSON.stringify([own, local.editing]), () =>
      stepBoard.ownCards(ctx, v, own, T[`column_${column}`]));
    keyed(part.add, "add", () => addCardForm(ctx, v, column, { label: T[`add_card_${column}`],
      placeholder: T[`placeholder_${column}`], describedBy: "add-card-hint",
      after: column === "bring" ? h("p", { class: "hint small", id: "add-card-hint", text: T.add_card_hint })
        : null }));
  }
}

// -- the board: groups (drag and drop, or "Move to…"), dots, results ------------------------

function renderBoard(el, ctx, v) {
  const { step, mine } = v;
  if (step.phase === "write") return clear(el);
  el.classList.add("purpose-board");
  if (step.phase === "group") {
    return keyedKeeping(el, JSON.stringify(["group", step.cards, step.groups, ctx.projector]),
      () => groupBoard(ctx, v));
  }
  if (step.phase === "vote") {
    return keyed(el, JSON.stringify(["vote", step.cards, step.groups, mine.votes, mine.votes_left,
      ctx.projector]), () => voteGroups(ctx, v));
  }
  return keyed(el, JSON.stringify(["results", step.phase, step.cards, step.groups, step.results]),
    () => resultsBoard(ctx, v));
}

function cardMeta(ctx, step, card) {
  return h("p", { class: "pcard-meta" },
    h("span", { class: `tag col-${card.column}`, text: ctx.T[`column_short_${card.column}`] }),
    !step.anonymous && card.author !== undefined && card.author !== null
      ? h("span", { class: "pcard-author", text: ctx.name(card.author) }) : null);
}

function groupBoard(ctx, v) {
  const { step } = v;
  return stepBoard.groupBoard(ctx, v, { canGroup: !ctx.projector, meta: (card) => cardMeta(ctx, step, card),
    layout: (groupItem) => h("ul", { class: "pgroups" }, step.groups.map((group) => groupItem(group))) });
}

function voteGroups(ctx, v) {
  return voteBoard(ctx, v, { word: "dot",
    layout: (groupItem) => h("ul", { class: "pgroups voting" }, v.step.groups.map(groupItem)) });
}

function resultsBoard(ctx, v) {
  const { T } = ctx;
  const { step } = v;
  const cards = cardIndex(step);
  const groups = new Map(step.groups.map((g) => [g.id, g]));
  const results = step.results || [];
  const most = Math.max(1, ...results.map((r) => r.votes));
  const body = results.length
    ? h("ol", { class: "ranked" }, results.map((r) => {
      const group = groups.get(r.group);
      if (!group) return null;
      return h("li", { class: r.votes ? "" : "no-votes" },
        h("div", { class: "rank-head" },
          h("strong", { class: "group-name", text: groupName(group, cards) }),
          h("span", { class: "rank-votes",
            text: r.votes === 1 ? T.dot_one : format(T.dots_count, { count: r.votes }) })),
        rankBar(r.votes, most),
        compactCards(group, cards));
    }))
    : h("ul", { class: "ranked" }, step.groups.map((group) => h("li", {},
      h("strong", { class: "group-name", text: groupName(group, cards) }), compactCards(group, cards))));
  return h("details", { class: "board-results", open: step.phase === "draft" },
    h("summary", { text: results.length ? T.dot_results : T.cards_heading }), body);
}

// -- the statement: drafted live by the facilitator -----------------------------------------

function renderStatement(el, ctx, v) {
  const { T } = ctx;
  const { step } = v;
  const editing = v.fac && ["group", "vote", "draft"].includes(step.phase);
  if (editing) {
    const canCall = step.phase !== "vote";
    keyed(el, JSON.stringify(["editor", v.index, canCall]), () => [
      statementEditor(ctx, v, canCall),
      currentPurpose(ctx, step),
    ]);
    // Someone else's change (another facilitator, a reconnect) shows when I am not typing.
    const area = el.querySelector("#statement");
    if (area && document.activeElement !== area && draft.pending === null && !draft.inflight
        && area.value !== step.statement) {
      area.value = step.statement || "";
      draft.sent = step.statement;
    }
    return;
  }
  if (step.phase === "ratified") {
    return keyed(el, JSON.stringify(["ratified", step.ratified]), () => h("div", { class: "ratified" },
      h("h3", { tabindex: "-1", "data-focus": "ratified", text: T.ratified_title }),
      h("p", { class: "statement-text", text: step.ratified }),
      h("p", { class: "ratified-note", text: T.ratified_note })));
  }
  const show = step.phase === "draft" || (["group", "vote"].includes(step.phase) && step.statement);
  keyed(el, JSON.stringify(["view", show ? step.statement : null, step.phase, step.current_purpose]), () => [
    show ? h("div", { class: "statement" },
      h("h3", {}, T.statement_title, " ", h("span", { class: "tag live", text: T.live })),
      step.statement
        ? h("p", { class: "statement-text", text: step.statement })
        : h("p", { class: "hint", text: T.statement_empty })) : null,
    step.phase !== "consent" ? currentPurpose(ctx, step) : null,
  ]);
}

function currentPurpose(ctx, step) {
  if (!step.current_purpose) return null;
  return h("details", { class: "current-purpose" },
    h("summary", { text: ctx.T.current_purpose }),
    h("p", { class: "statement-text", text: step.current_purpose }));
}

function statementEditor(ctx, v, canCall) {
  const { T } = ctx;
  const { step, index } = v;
  draft.sent = step.statement;
  const area = textField("textarea", { id: "statement", rows: 4, maxlength: STATEMENT_LIMIT,
    "data-focus": "statement", "aria-describedby": "statement-help" }, draft.pending ?? step.statement);
  area.addEventListener("input", () => schedule(ctx, index, area.value));
  area.addEventListener("blur", () => flush(ctx, index));
  const picker = canCall ? thresholdPicker(T, "consent-threshold") : null;
  return h("div", { class: "statement editor" },
    h("h3", {}, h("label", { for: "statement", text: T.statement_title })),
    h("p", { class: "hint", id: "statement-help", text: T.statement_help }),
    area,
    canCall ? h("div", { class: "call-consent" },
      picker.field,
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "button primary", "data-focus": "call-consent",
          "data-focus-fallback": "ballot-purpose", onclick: async () => {
            if (!area.value.trim()) {
              area.focus();
              return;
            }
            schedule(ctx, index, area.value);
            await flush(ctx, index);
            ctx.send("call_consent", { step: index, threshold: picker.value(), proposal: null });
          } }, T.call_consent_statement))) : null);
}

function schedule(ctx, index, text) {
  draft.pending = text;
  clearTimeout(draft.timer);
  draft.timer = setTimeout(() => flush(ctx, index), DRAFT_DELAY);
}

async function flush(ctx, index) {
  clearTimeout(draft.timer);
  draft.timer = null;
  if (draft.pending === null) return;
  const text = draft.pending;
  draft.pending = null;
  if (text === draft.sent) return;
  draft.sent = text;
  draft.inflight += 1;
  try {
    await ctx.send("draft_statement", { step: index, text });
  } finally {
    draft.inflight -= 1;
  }
}

// -- consent ---------------------------------------------------------------------------------

function renderVote(el, ctx, v) {
  const { step, index, mine } = v;
  if (step.phase !== "consent" || !step.vote) return clear(el);
  renderBallot(el, ctx, { key: "purpose", index, vote: step.vote, mine: mine.consent,
    anonymous: step.anonymous, heading: ctx.T.consent_on_statement });
}

function renderResult(resultEl, roundsEl, ctx, v) {
  const { T } = ctx;
  const { step } = v;
  const rounds = step.rounds || [];
  const latest = !step.vote && rounds.length && step.phase !== "consent" ? rounds[rounds.length - 1] : null;
  keyed(resultEl, JSON.stringify([latest, step.anonymous, v.fac, step.phase]), () => (latest
    ? resultView(ctx, latest, { key: "purpose", anonymous: step.anonymous,
      heading: latest.passed ? T.statement_passed : T.statement_not_passed,
      note: !latest.passed && step.phase === "draft"
        ? (v.fac ? T.amend_and_retry_facilitator : T.amend_and_retry) : null })
    : null));
  const earlier = latest ? rounds.slice(0, -1) : rounds;
  keyed(roundsEl, JSON.stringify([earlier, step.anonymous]), () =>
    roundsView(ctx, earlier, { key: "purpose", anonymous: step.anonymous }));
}
