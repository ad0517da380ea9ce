// The purpose-alignment step: write (private until the reveal), group, dot-vote, draft the
// statement live, ratify it by consent.
//
// Like the other steps, every slot is rebuilt only when the data it shows changes, and
// each control has a stable data-focus key so that focus survives live updates.
import { format, h, keyed } from "./dom.js";
import { renderBallot, resultView, roundsView, thresholdPicker } from "./consent.js";
import { announce, clear, focusKey, keyedKeeping, short, slots, textField } from "./live.js";

const PHASES = ["write", "group", "vote", "draft", "consent", "ratified"];
const EARLY = new Set(["write", "group", "vote"]);
const COLUMNS = ["exists", "bring"];
const CARD_LIMIT = 280;
const TITLE_LIMIT = 80;
const STATEMENT_LIMIT = 2000;
const DRAFT_DELAY = 400;

// What only this browser knows: the card being edited, and the statement being typed.
const local = { index: null, editing: null, dragging: null };
const draft = { timer: null, pending: null, sent: null, inflight: 0 };
let last = null; // the arguments of the last render, to render again after a local change
let seen = null; // the step as last rendered, to announce what changed

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
  const spent = Object.values(own.votes || {}).reduce((sum, n) => sum + n, 0);
  const mine = { ...own, votes_left: Math.max(0, (step.votes_per_person || 0) - spent) };
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
  keyed(s.phases, step.phase, () => phaseSteps(ctx.T, step.phase));
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

/** Where the step is: write → group → vote → draft → consent → ratified. */
function phaseSteps(T, phase) {
  const at = PHASES.indexOf(phase);
  return h("ol", { class: "phase-steps", "aria-label": T.purpose_phases }, PHASES.map((p, i) =>
    h("li", { class: i === at ? "current" : i < at ? "done" : "", "aria-current": i === at ? "step" : false },
      T[`phase_${p}`])));
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
  const writers = step.anonymous ? [] : (step.writers || []).map((id) => ctx.name(id));
  const voting = step.phase === "vote" && !ctx.projector;
  keyed(el, JSON.stringify([step.phase, step.anonymous, written, writers, v.fac, ctx.projector,
    voting ? [mine.votes_left, step.voters] : step.voters]), () => {
    const anon = step.anonymous ? h("p", { class: "tag-line" },
      h("span", { class: "tag", text: T.anonymous_step }), " ", T.anonymous_help) : null;
    if (step.phase === "write") {
      return [
        h("p", { class: "callout" }, format(T.purpose_written, { count: written })),
        writers.length ? h("ul", { class: "chips", "aria-label": T.purpose_writers },
          writers.map((name) => h("li", { text: name }))) : null,
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
    const box = (...children) => h("div", { class: "facilitator-only" },
      h("p", { class: "facilitator-label", text: T.only_you_see }), ...children);
    if (step.phase === "write") {
      return box(h("p", { class: "hint", text: T.reveal_cards_hint }),
        h("button", { type: "button", class: "button primary", "data-focus": "reveal-cards",
          "data-focus-fallback": "stage-title",
          onclick: () => ctx.send("reveal", { step: index }) }, T.reveal_cards));
    }
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
    if (step.phase === "vote") {
      return box(h("button", { type: "button", class: "button primary", "data-focus": "close-voting",
        "data-focus-fallback": "statement",
        onclick: () => ctx.send("close_voting", { step: index }) }, T.close_voting));
    }
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
    keyedKeeping(part.mine, JSON.stringify([own, local.editing]), () => (own.length
      ? h("ul", { class: "pcards own", "aria-label": format(T.your_cards_in, { column: T[`column_${column}`] }) },
        own.map((card) => (local.editing === card.id ? editCard(ctx, v, card) : ownCard(ctx, v, card))))
      : null));
    keyed(part.add, "add", () => addForm(ctx, v, column));
  }
}

function ownCard(ctx, v, card) {
  const { T } = ctx;
  return h("li", { class: "pcard own" },
    h("p", { class: "pcard-text", id: `text-${card.id}`, text: card.text }),
    h("div", { class: "card-actions" },
      h("button", { type: "button", class: "link-button", "data-focus": `edit-${card.id}`,
        "aria-describedby": `text-${card.id}`, onclick: () => {
          local.editing = card.id;
          rerender();
          focusKey(`edit-text-${card.id}`);
        } }, T.edit),
      h("button", { type: "button", class: "link-button danger", "data-focus": `delete-${card.id}`,
        "data-focus-fallback": `card-text-${card.column}`, "aria-describedby": `text-${card.id}`,
        onclick: () => ctx.send("delete_card", { step: v.index, card: card.id }) }, T.delete)));
}

function editCard(ctx, v, card) {
  const { T } = ctx;
  const id = `edit-text-${card.id}`;
  const area = textField("textarea", { id, rows: 3, maxlength: CARD_LIMIT, "data-focus": id }, card.text);
  const done = () => {
    local.editing = null;
    rerender();
    focusKey(`edit-${card.id}`);
  };
  area.addEventListener("keydown", (e) => {
    if (e.key === "Escape") done();
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      e.target.form.requestSubmit();
    }
  });
  return h("li", { class: "pcard own editing" },
    h("form", { onsubmit: async (e) => {
      e.preventDefault();
      const text = area.value.trim();
      if (!text) return area.focus();
      const ack = await ctx.send("edit_card", { step: v.index, card: card.id, text });
      if (ack.ok) done();
    } },
    h("label", { for: id, text: T.edit_card }),
    area,
    h("div", { class: "button-row" },
      h("button", { type: "submit", class: "button primary", "data-focus": `edit-save-${card.id}` }, T.save),
      h("button", { type: "button", class: "button ghost", onclick: done }, T.cancel))));
}

function addForm(ctx, v, column) {
  const { T } = ctx;
  const id = `card-text-${column}`;
  const area = textField("textarea", { id, rows: 2, maxlength: CARD_LIMIT, "data-focus": id,
    placeholder: T[`placeholder_${column}`], "aria-describedby": "add-card-hint" });
  let busy = false;
  const submit = async () => {
    const text = area.value.trim();
    if (!text || busy) return;
    busy = true;
    const ack = await ctx.send("add_card", { step: v.index, column, text });
    busy = false;
    if (ack.ok) {
      area.value = "";
      area.focus();
    }
  };
  // Cards are short: Enter adds one, Shift+Enter starts a new line.
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  return h("form", { class: "add-card", onsubmit: (e) => {
    e.preventDefault();
    submit();
  } },
  h("label", { for: id, class: "visually-hidden", text: T[`add_card_${column}`] }),
  area,
  h("div", { class: "button-row" },
    h("button", { type: "submit", class: "button", "data-focus": `card-add-${column}` }, T.add_card)),
  column === "bring" ? h("p", { class: "hint small", id: "add-card-hint", text: T.add_card_hint }) : null);
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
      ctx.projector]), () => voteBoard(ctx, v));
  }
  return keyed(el, JSON.stringify(["results", step.phase, step.cards, step.groups, step.results]),
    () => resultsBoard(ctx, v));
}

function cardIndex(step) {
  return new Map(step.cards.map((c) => [c.id, c]));
}

/** A group's name: its title, or else the text of its first card. */
function groupName(group, cards) {
  return group.title || cards.get(group.cards[0])?.text || "";
}

function cardMeta(ctx, step, card) {
  return h("p", { class: "pcard-meta" },
    h("span", { class: `tag col-${card.column}`, text: ctx.T[`column_short_${card.column}`] }),
    !step.anonymous && card.author !== undefined && card.author !== null
      ? h("span", { class: "pcard-author", text: ctx.name(card.author) }) : null);
}

function groupBoard(ctx, v) {
  const { T } = ctx;
  const { step, index } = v;
  const cards = cardIndex(step);
  const groupOf = (cardId) => step.groups.find((g) => g.cards.includes(cardId));
  const interactive = !ctx.projector;

  const move = (cardId, target) => {
    const from = groupOf(cardId);
    if (!from || !cards.has(cardId)) return;
    if (target === null ? from.cards.length === 1 : from.id === target) return;
    ctx.send("group_card", { step: index, card: cardId, target });
  };

  // A group (or the "on its own" zone) takes a dragged card.
  const dropTarget = (el, target) => {
    const accepts = () => {
      const from = local.dragging && groupOf(local.dragging);
      return from && (target === null ? from.cards.length > 1 : from.id !== target);
    };
    el.addEventListener("dragover", (e) => {
      if (!accepts()) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      el.classList.add("drag-over");
    });
    el.addEventListener("dragleave", (e) => {
      if (!el.contains(e.relatedTarget)) el.classList.remove("drag-over");
    });
    el.addEventListener("drop", (e) => {
      e.preventDefault();
      el.classList.remove("drag-over");
      const cardId = local.dragging || e.dataTransfer.getData("text/plain");
      local.dragging = null;
      move(cardId, target);
    });
  };

  const moveControl = (card) => {
    const id = `move-${card.id}`;
    const own = groupOf(card.id);
    const select = h("select", { id, "data-focus": id, class: "move-select",
      "aria-describedby": `text-${card.id}` },
    step.groups.filter((g) => g.id !== own.id || g.cards.length > 1).map((g) => h("option", {
      value: g.id, selected: g.id === own.id }, g.cards.length > 1
      ? format(T.move_to_group, { title: short(groupName(g, cards), 40), count: g.cards.length })
      : format(T.move_to_card, { text: short(groupName(g, cards), 40) }))),
    h("option", { value: "", selected: own.cards.length === 1 }, T.move_alone));
    return h("div", { class: "move" },
      h("label", { for: id, text: T.move_to }),
      select,
      h("button", { type: "button", class: "button small", "data-focus": `move-go-${card.id}`,
        "aria-describedby": `text-${card.id}`,
        onclick: () => move(card.id, select.value || null) }, T.move));
  };

  const cardItem = (card) => h("li", {
    class: "pcard", "data-card": card.id, draggable: interactive ? "true" : false,
    ondragstart: interactive ? (e) => {
      local.dragging = card.id;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.id);
      e.currentTarget.classList.add("dragging");
      e.stopPropagation();
    } : null,
    ondragend: interactive ? (e) => {
      local.dragging = null;
      e.currentTarget.classList.remove("dragging");
      for (const over of document.querySelectorAll(".drag-over")) over.classList.remove("drag-over");
    } : null,
  },
  h("p", { class: "pcard-text", id: `text-${card.id}`, text: card.text }),
  cardMeta(ctx, step, card),
  interactive ? moveControl(card) : null);

  const groupItem = (group) => {
    const stack = group.cards.length > 1;
    const item = h("li", { class: stack ? "pgroup stack" : "pgroup", "data-group": group.id },
      stack ? titleForm(ctx, v, group) : null,
      h("ul", { class: "pcards", "aria-label": stack ? format(T.group_of, {
        title: short(groupName(group, cards)), count: group.cards.length }) : T.card_alone },
      group.cards.map((id) => cards.get(id)).filter(Boolean).map(cardItem)));
    if (interactive) dropTarget(item, group.id);
    return item;
  };

  const alone = interactive ? h("div", { class: "drop-zone", "data-drop": "alone" },
    h("span", { text: T.drop_alone })) : null;
  if (alone) dropTarget(alone, null);
  return [
    h("h3", { class: "visually-hidden", text: T.cards_heading }),
    h("ul", { class: "pgroups" }, step.groups.map(groupItem)),
    alone,
  ];
}

function titleForm(ctx, v, group) {
  const { T } = ctx;
  const id = `title-${group.id}`;
  const input = h("input", { type: "text", id, "data-focus": id, value: group.title || "",
    maxlength: TITLE_LIMIT, autocomplete: "off", placeholder: T.group_title_placeholder });
  let sent = group.title || "";
  const save = () => {
    const title = input.value.trim();
    if (title === sent) return;
    sent = title;
    ctx.send("title_group", { step: v.index, group: group.id, title });
  };
  input.addEventListener("change", save);
  if (ctx.projector) return h("h4", { class: "group-title-text", text: group.title || T.untitled_group });
  return h("form", { class: "group-title", onsubmit: (e) => {
    e.preventDefault();
    save();
  } },
  h("label", { for: id, text: T.group_title }),
  h("div", { class: "copy-row" }, input,
    h("button", { type: "submit", class: "button small", "data-focus": `title-save-${group.id}` },
      T.save)));
}

function voteBoard(ctx, v) {
  const { T } = ctx;
  const { step, index, mine } = v;
  const cards = cardIndex(step);
  const votes = mine.votes || {};
  return [
    h("h3", { class: "visually-hidden", text: T.dot_voting }),
    h("ul", { class: "pgroups voting" }, step.groups.map((group) => {
      const name = groupName(group, cards);
      const n = votes[group.id] || 0;
      return h("li", { class: n ? "pgroup voted" : "pgroup", "data-group": group.id },
        h("h4", { class: "group-name", id: `name-${group.id}`, text: name }),
        group.cards.length > 1 || group.title ? h("ul", { class: "pcards compact" },
          group.cards.map((id) => cards.get(id)).filter(Boolean).map((card) =>
            h("li", { class: "pcard", text: card.text }))) : null,
        ctx.projector ? null : h("div", { class: "dots" },
          h("span", { class: "my-dots", "aria-hidden": "true", text: "●".repeat(n) }),
          h("span", { class: "dot-count" }, format(T.your_dots, { count: n })),
          h("span", { class: "dot-buttons" },
            h("button", { type: "button", class: "button small", "data-focus": `dot-remove-${group.id}`,
              "data-focus-fallback": `dot-add-${group.id}`, disabled: n === 0,
              "aria-label": format(T.dot_remove, { title: short(name) }), title: T.dot_remove_short,
              onclick: () => ctx.send("unvote", { step: index, group: group.id }) }, "−"),
            h("button", { type: "button", class: "button small primary", "data-focus": `dot-add-${group.id}`,
              "data-focus-fallback": `dot-remove-${group.id}`, disabled: mine.votes_left <= 0,
              "aria-label": format(T.dot_add, { title: short(name) }), title: T.dot_add_short,
              onclick: () => ctx.send("vote", { step: index, group: group.id }) }, "+"))));
    })),
  ];
}

function resultsBoard(ctx, v) {
  const { T } = ctx;
  const { step } = v;
  const cards = cardIndex(step);
  const groups = new Map(step.groups.map((g) => [g.id, g]));
  const results = step.results || [];
  const most = Math.max(1, ...results.map((r) => r.votes));
  const cardList = (group) => (group.cards.length > 1 || group.title ? h("ul", { class: "pcards compact" },
    group.cards.map((id) => cards.get(id)).filter(Boolean).map((card) =>
      h("li", { class: "pcard", text: card.text }))) : null);
  const body = results.length
    ? h("ol", { class: "ranked" }, results.map((r) => {
      const group = groups.get(r.group);
      if (!group) return null;
      return h("li", { class: r.votes ? "" : "no-votes" },
        h("div", { class: "rank-head" },
          h("strong", { class: "group-name", text: groupName(group, cards) }),
          h("span", { class: "rank-votes",
            text: r.votes === 1 ? T.dot_one : format(T.dots_count, { count: r.votes }) })),
        h("span", { class: "rank-bar", "aria-hidden": "true" },
          h("span", { class: "bar", style: { width: `${(r.votes / most) * 100}%` } })),
        cardList(group));
    }))
    : h("ul", { class: "ranked" }, step.groups.map((group) => h("li", {},
      h("strong", { class: "group-name", text: groupName(group, cards) }), cardList(group))));
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
