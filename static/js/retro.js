// The retrospective step: write cards (private until the reveal, optionally anonymous),
// group them, dot-vote, discuss the topics one at a time with a timebox, and agree on
// deeds: what, who, by when, optionally for one of the charter's agreements.
//
// Like the other steps, every slot is rebuilt only when the data it shows changes, and
// each control has a stable data-focus key so that focus survives live updates. The card
// board (my cards while writing, grouping, the dot vote) is board.js, shared with the
// purpose step.
import {
  addCardForm, cardBoard, cardIndex, closeVoting, compactCards, groupName, phaseSteps, rankBar,
  revealCards, voteBoard, votesLeft, writersOf, writingStatus,
} from "./board.js";
import { format, h, keyed } from "./dom.js";
import {
  announce, clear, facilitatorBox, focusKey, keyedKeeping, keyedList, sendOnce, short, showDate, slots,
  textField,
} from "./live.js";

const PHASES = ["write", "group", "vote", "discuss", "deeds"];
const TALKING = new Set(["discuss", "deeds"]);
const CARDS_PER_MEMBER = 20;
const DEED_LIMIT = 280;
const MAX_DEEDS = 30;
const MAX_VOTES = 10;
const TIMEBOXES = [0, 180, 300, 600];
const EXTEND_SECONDS = 120;
// While the room talks, the topic at hand and the deeds come before the list of topics.
const SLOTS = ["phases", "status", "ready", "controls", "write", "current", "deeds", "board"];

// What only this browser knows: the card or deed being edited, the card being dragged,
// and the facilitator's timebox for the next topic.
const local = { index: null, editing: null, dragging: null, editingDeed: null, timebox: 300 };
let last = null; // the arguments of the last render, to render again after a local change
let seen = null; // the step as last rendered, to announce what changed
let ticking = null; // the topic countdown's interval, while a countdown is shown
const stepBoard = cardBoard({ local, rerender });
// The topic countdown as last announced: "one minute left" and "time is up" come once.
const countdown = { key: null, warned: false, up: false };

/** Render the retrospective step into the stage's parts. */
export function renderRetro(parts, ctx, view) {
  const { step, index } = view;
  if (local.index !== index) {
    Object.assign(local, { index, editing: null, dragging: null, editingDeed: null });
  }
  const own = { cards: [], votes: {}, ready: false, ready_phase: null, ...(view.mine || {}) };
  // The private view comes with one's own commands only: what others change (a new phase,
  // the vote budget) is worked out here from the public step.
  const mine = { ...own, ready: own.ready && own.ready_phase === step.phase,
    votes_left: votesLeft(step, own.votes) };
  const v = { ...view, mine, fac: ctx.isFacilitator() && !ctx.projector, board: boardIndex(step) };
  last = { parts, ctx, view };
  if (seen && seen.index === index) announceChanges(ctx, v, seen.step, step);
  seen = { index, step };

  parts.answers.classList.add("charter-step", "retro-step");
  const s = slots(parts.answers, `retro:${index}`, SLOTS);
  const skipped = step.voting_skipped ? ["vote"] : [];
  keyed(s.phases, `${step.phase}:${skipped}`, () => phaseSteps(ctx.T, PHASES, step.phase, skipped));
  renderStatus(s.status, ctx, v);
  renderReady(s.ready, ctx, v);
  renderControls(s.controls, ctx, v);
  renderWrite(s.write, ctx, v);
  renderCurrent(s.current, ctx, v);
  renderBoard(s.board, ctx, v);
  renderDeeds(s.deeds, ctx, v);
  // The countdown ticks only while one is shown: tick() stops the interval once it is gone
  // (another topic without a timebox, phase or step), and a render that shows one starts it.
  tick();
  if (ticking === null && countdownElement()) ticking = setInterval(tick, 1000);
}

function rerender() {
  if (last) renderRetro(last.parts, last.ctx, last.view);
}

// -- what the board holds ----------------------------------------------------------------

/** Cards and groups by id, and the column each group stands in (its first card's). */
function boardIndex(step) {
  const cards = cardIndex(step);
  const groups = new Map((step.groups || []).map((g) => [g.id, g]));
  const keys = (step.columns || []).map((c) => c.key);
  const columnOf = (group) => {
    const first = cards.get(group.cards[0]);
    return first && keys.includes(first.column) ? first.column : keys[0];
  };
  return { cards, groups, columnOf };
}

/** A column's title: the facilitator's own, or the built-in one in the page's language. */
function columnTitle(T, column) {
  return column.title || T[`col_${column.key}`] || column.key;
}

/** A column's hint (built-in columns only). */
function columnHint(T, column) {
  return column.title ? null : T[`col_${column.key}_hint`] || null;
}

function topicName(ctx, v, id) {
  return groupName(v.board.groups.get(id), v.board.cards) || ctx.T.untitled_group;
}

/** The most votes one person may give one topic. */
function perCard(step) {
  return step.per_card ?? step.votes_per_person ?? MAX_VOTES;
}

function votesText(T, n) {
  return n === 1 ? T.vote_one : format(T.votes_count, { count: n });
}

function clock(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function announceChanges(ctx, v, before, after) {
  const { T } = ctx;
  if (before.phase !== after.phase) {
    const said = {
      group: T.say_cards_revealed,
      vote: format(T.say_votes_open, { n: after.votes_per_person }),
      discuss: before.phase === "vote" ? T.say_topics_ranked : T.say_voting_skipped,
      deeds: T.say_deeds_phase,
    };
    announce(said[after.phase]);
  }
  if (after.phase === "group" && before.grouping_locked !== after.grouping_locked) {
    announce(after.grouping_locked ? T.say_grouping_locked : T.say_grouping_unlocked);
  }
  const timer = after.topic_timer || {};
  if (after.current_topic && after.current_topic !== before.current_topic) {
    announce(format(timer.ends_at ? T.say_now_discussing_timed : T.say_now_discussing, {
      title: short(topicName(ctx, v, after.current_topic), 80),
      n: Math.round((timer.duration || 0) / 60),
    }));
  } else if (after.current_topic && timer.ends_at && timer.ends_at !== before.topic_timer?.ends_at) {
    announce(T.say_topic_extended);
  }
  const had = new Set((before.deeds || []).map((d) => d.id));
  for (const deed of after.deeds || []) {
    if (!had.has(deed.id) && deed.author !== ctx.memberId) {
      announce(format(T.say_new_deed, { text: short(deed.text, 80) }));
    }
  }
}

// -- what is going on, who is ready, and the facilitator's controls ---------------------------

function renderStatus(el, ctx, v) {
  const { T } = ctx;
  const { step, mine } = v;
  const written = Object.values(step.written || {}).reduce((n, c) => n + c, 0);
  const writers = writersOf(ctx, step);
  const voting = step.phase === "vote" && !ctx.projector;
  const limit = perCard(step);
  keyed(el, JSON.stringify([step.phase, step.anonymous, written, writers, ctx.projector, v.fac,
    step.grouping_locked, voting ? mine.votes_left : null, step.votes_per_person, limit,
    step.voters]), () => [
    // The promise of anonymity comes first, in every phase.
    step.anonymous ? h("p", { class: "tag-line retro-anonymous" },
      h("span", { class: "tag", text: T.anonymous_step }), " ", T.retro_anonymous) : null,
    statusBody(ctx, v, { written, writers, voting, limit }),
  ]);
}

/** What the step asks of the room now: counts, hints, votes left. */
function statusBody(ctx, v, { written, writers, voting, limit }) {
  const { T } = ctx;
  const { step, mine } = v;
  if (step.phase === "write") {
    return [
      writingStatus(T, written, writers),
      h("p", { class: "hint", text: ctx.projector ? T.purpose_write_projector : T.retro_write_hint }),
      ctx.projector ? null : h("p", { class: "hint small", id: "retro-add-hint", text: T.add_card_hint }),
    ];
  }
  if (step.phase === "group") {
    const locked = step.grouping_locked;
    return [
      locked ? h("p", { class: "callout locked", text: v.fac ? T.grouping_locked_facilitator
        : T.grouping_locked }) : null,
      locked && !v.fac ? null : h("p", { class: "hint", text: ctx.projector
        ? T.purpose_group_projector : T.purpose_group_hint }),
    ];
  }
  if (step.phase === "vote") {
    const total = step.votes_per_person;
    return [
      voting ? h("p", { class: "callout" }, format(T.votes_left, { left: mine.votes_left, total })) : null,
      h("p", { class: "hint" }, limit < total ? format(T.votes_per_topic_limit, { n: limit })
        : T.votes_stack, " ", format(T.votes_voters, { count: step.voters ?? 0 }), " ", T.votes_hidden),
    ];
  }
  return [
    h("p", { class: "hint", text: step.phase === "discuss" ? T.retro_discuss_hint : T.retro_deeds_hint }),
  ];
}

/** "I'm ready" for everyone in the room, and how many are ready in this phase. */
function renderReady(el, ctx, v) {
  const { T } = ctx;
  const { step, mine, index } = v;
  const online = ctx.state.members.filter((m) => m.online).length;
  const count = step.ready ?? 0;
  const total = Math.max(online, count);
  keyed(el, JSON.stringify([step.phase, count, total, mine.ready, ctx.projector]), () =>
    h("div", { class: "ready-row" },
      ctx.projector ? null : h("button", { type: "button", class: "button ready-toggle",
        "aria-pressed": mine.ready ? "true" : "false", "data-focus": "ready",
        "aria-describedby": "ready-count",
        onclick: () => ctx.send("ready", { step: index, ready: !mine.ready }) }, T.im_ready),
      h("p", { class: "ready-count", id: "ready-count" }, format(T.ready_count, { count, total })),
      ctx.projector ? null : h("p", { class: "hint small ready-hint",
        text: mine.ready ? T.ready_yes : T.ready_hint })));
}

function renderControls(el, ctx, v) {
  const { T } = ctx;
  const { step, index } = v;
  const topics = step.topics || [];
  const discussed = step.discussed || [];
  keyed(el, JSON.stringify([v.fac, step.phase, step.votes_per_person, step.grouping_locked,
    step.current_topic, topics.map((t) => t.group), discussed]), () => {
    if (!v.fac) return null;
    const box = (...children) => facilitatorBox(T, ...children);
    const button = (focus, attrs, label) => h("button", { type: "button", class: "button",
      "data-focus": focus, ...attrs }, label);
    if (step.phase === "write") return box(revealCards(ctx, index, "lock-grouping stage-title"));
    if (step.phase === "group") return groupControls(ctx, v, box, button);
    if (step.phase === "vote") return box(closeVoting(ctx, index, "next-topic topics-title stage-title"));
    // Discuss and deeds: the next topic, with a timebox; then the deeds.
    const select = h("select", { id: "topic-timebox", "data-focus": "topic-timebox",
      onchange: () => { local.timebox = Number(select.value); } },
    TIMEBOXES.map((s) => h("option", { value: s, selected: s === local.timebox },
      s ? format(T.minutes, { n: s / 60 }) : T.timebox_none)));
    const next = topics.find((t) => t.group !== step.current_topic && !discussed.includes(t.group));
    return box(
      h("div", { class: "inline-field" }, h("label", { for: "topic-timebox", text: T.timebox }), select),
      h("div", { class: "button-row" },
        step.phase === "discuss" || next ? button("next-topic", {
          class: step.phase === "discuss" ? "button primary" : "button",
          "data-focus-fallback": "start-deeds topic-timebox", disabled: !next,
          onclick: () => highlight(ctx, index, next.group) },
        step.current_topic ? T.next_topic : T.first_topic) : null,
        step.phase === "discuss" ? button("start-deeds", { "data-focus-fallback": "deed-text",
          onclick: () => ctx.send("start_deeds", { step: index }) }, T.start_deeds) : null),
      !next && step.phase === "discuss" ? h("p", { class: "hint", text: T.all_topics_discussed }) : null,
      h("p", { class: "hint", text: step.phase === "discuss" ? T.discuss_facilitator_hint
        : T.deeds_facilitator_hint }));
  });
}

function highlight(ctx, index, topic) {
  ctx.send("highlight", { step: index, topic, seconds: local.timebox });
}

/** Lock the grouping, and open (or skip) the vote with its budget and per-topic limit. */
function groupControls(ctx, v, box, button) {
  const { T } = ctx;
  const { step, index } = v;
  const locked = !!step.grouping_locked;
  const numbers = (n) => Array.from({ length: n }, (_, i) => i + 1);
  const votes = h("select", { id: "retro-votes", "data-focus": "retro-votes" },
    numbers(MAX_VOTES).map((n) => h("option", { value: n, selected: n === (step.votes_per_person || 3) }, n)));
  const perTopic = h("select", { id: "retro-per-card", "data-focus": "retro-per-card" });
  const fillPerTopic = () => {
    const keep = perTopic.value;
    perTopic.replaceChildren(h("option", { value: "", selected: true }, T.no_limit),
      ...numbers(Number(votes.value)).map((n) => h("option", { value: n }, n)));
    if ([...perTopic.options].some((o) => o.value === keep)) perTopic.value = keep;
  };
  votes.addEventListener("change", fillPerTopic);
  fillPerTopic();
  return box(
    h("div", { class: "lock-row" },
      button("lock-grouping", { class: locked ? "button lock-toggle" : "button ghost lock-toggle",
        "aria-pressed": locked ? "true" : "false", "aria-describedby": "lock-hint",
        onclick: () => ctx.send("lock_grouping", { step: index, locked: !locked }) }, T.lock_grouping),
      h("p", { class: "hint small", id: "lock-hint", text: locked ? T.lock_on_hint : T.lock_off_hint })),
    h("div", { class: "vote-settings" },
      h("div", { class: "inline-field" }, h("label", { for: "retro-votes", text: T.votes_per_person }), votes),
      h("div", { class: "inline-field" }, h("label", { for: "retro-per-card", text: T.votes_per_topic }),
        perTopic)),
    h("div", { class: "button-row" },
      button("open-voting", { class: "button primary", "data-focus-fallback": "close-voting stage-title",
        onclick: () => {
          // No limit: per_card is left out, and the server allows stacking up to the budget.
          const payload = { step: index, votes: Number(votes.value) };
          if (perTopic.value) payload.per_card = Number(perTopic.value);
          ctx.send("open_voting", payload);
        } }, T.open_voting),
      button("skip-voting", { class: "button ghost", "data-focus-fallback": "next-topic stage-title",
        "aria-describedby": "skip-voting-hint",
        onclick: () => ctx.send("skip_voting", { step: index }) }, T.skip_voting)),
    h("p", { class: "hint small", id: "skip-voting-hint", text: T.skip_voting_retro_hint }));
}

// -- writing: the columns, my own cards, the others' only as a count --------------------------

function renderWrite(el, ctx, v) {
  const { T } = ctx;
  const { step, mine } = v;
  if (step.phase !== "write") return clear(el);
  const columns = step.columns || [];
  el.className = `slot slot-write retro-columns cols-${columns.length}`;
  const boxes = slots(el, `write:${v.index}:${ctx.projector}:${columns.map((c) => c.key).join(",")}`,
    columns.map((c) => c.key));
  const full = mine.cards.length >= CARDS_PER_MEMBER;
  for (const column of columns) {
    const key = column.key;
    const title = columnTitle(T, column);
    const box = boxes[key];
    box.classList.add("retro-column");
    const part = slots(box, "column", ["head", "mine", "add"]);
    const own = mine.cards.filter((c) => c.column === key);
    const all = step.written?.[key] || 0;
    const others = Math.max(0, all - own.length);
    keyed(part.head, JSON.stringify([title, others, all, ctx.projector]), () => [
      h("h3", { id: `column-${key}`, text: title }),
      columnHint(T, column) ? h("p", { class: "hint column-hint", text: columnHint(T, column) }) : null,
      h("p", { class: "hint column-count" }, ctx.projector
        ? format(T.cards_in_column, { count: all })
        : format(T.others_wrote_hidden, { count: others })),
    ]);
    if (ctx.projector) continue;
    keyedKeeping(part.mine, JSON.stringify([own, local.editing]), () => stepBoard.ownCards(ctx, v, own, title));
    keyedKeeping(part.add, JSON.stringify([title, full]), () => (full
      ? h("p", { class: "hint small", text: format(T.cards_full, { n: CARDS_PER_MEMBER }) })
      : addCardForm(ctx, v, key, { label: format(T.add_card_to, { column: title }),
        placeholder: T.retro_placeholder, describedBy: "retro-add-hint", nameButton: true })));
  }
}

// -- the board: columns of groups (drag and drop, or "Move to…"), votes, topics -----------------

function renderBoard(el, ctx, v) {
  const { step, mine } = v;
  if (step.phase === "write") return clear(el);
  const canGroup = !ctx.projector && (!step.grouping_locked || v.fac);
  if (step.phase === "group") {
    return keyedKeeping(el, JSON.stringify(["group", step.cards, step.groups, step.columns, step.anonymous,
      canGroup, ctx.projector]), () => groupBoard(ctx, v, canGroup));
  }
  if (step.phase === "vote") {
    return keyed(el, JSON.stringify(["vote", step.cards, step.groups, step.columns, mine.votes,
      mine.votes_left, perCard(step), ctx.projector]), () => voteGroups(ctx, v));
  }
  return keyed(el, JSON.stringify(["topics", step.cards, step.groups, step.topics, step.current_topic,
    step.discussed, step.phase, v.fac]), () => topicsBoard(ctx, v));
}

/** The board as columns side by side (stacked on a phone), each with its groups. */
function columnBoard(ctx, v, groupItem, listClass) {
  const { T } = ctx;
  const { step, board } = v;
  const columns = step.columns || [];
  const byColumn = new Map(columns.map((c) => [c.key, []]));
  for (const group of step.groups) byColumn.get(board.columnOf(group))?.push(group);
  return h("div", { class: `retro-board ${listClass} cols-${columns.length}` }, columns.map((column) => {
    const groups = byColumn.get(column.key);
    const count = groups.reduce((n, g) => n + g.cards.length, 0);
    return h("section", { class: "retro-board-column", "data-column": column.key,
      "aria-labelledby": `board-column-${column.key}` },
    h("h3", { class: "retro-column-title", id: `board-column-${column.key}` }, columnTitle(T, column), " ",
      h("span", { class: "count", text: `(${count})` })),
    groups.length ? h("ul", { class: `pgroups ${listClass}` }, groups.map((g) => groupItem(g, column.key)))
      : h("p", { class: "hint small", text: T.column_empty }));
  }));
}

function cardMeta(ctx, v, card, columnKey) {
  const { step } = v;
  const column = card.column !== columnKey ? (step.columns || []).find((c) => c.key === card.column) : null;
  const author = !step.anonymous && card.author !== undefined && card.author !== null
    ? ctx.name(card.author) : null;
  if (!column && !author) return null;
  return h("p", { class: "pcard-meta" },
    column ? h("span", { class: "tag", text: columnTitle(ctx.T, column) }) : null,
    author ? h("span", { class: "pcard-author", text: author }) : null);
}

function groupBoard(ctx, v, canGroup) {
  const { T } = ctx;
  const { step } = v;
  return stepBoard.groupBoard(ctx, v, { canGroup, meta: (card, columnKey) => cardMeta(ctx, v, card, columnKey),
    layout: (groupItem) => (step.groups.length ? columnBoard(ctx, v, groupItem, "grouping")
      : h("p", { class: "hint", text: T.no_cards })) });
}

function voteGroups(ctx, v) {
  return voteBoard(ctx, v, { word: "vote", limit: perCard(v.step),
    layout: (groupItem) => columnBoard(ctx, v, groupItem, "voting") });
}

/** The topics in the order of votes (or of the groups, when the vote was skipped). */
function topicsBoard(ctx, v) {
  const { T } = ctx;
  const { step, index, board } = v;
  const topics = step.topics || [];
  const discussed = step.discussed || [];
  const showVotes = topics.some((t) => t.votes > 0);
  const most = Math.max(1, ...topics.map((t) => t.votes));
  return [
    h("h3", { id: "topics-title", tabindex: "-1", "data-focus": "topics-title" },
      T.topics_title, " ", h("span", { class: "count", text: `(${topics.length})` })),
    topics.length ? null : h("p", { class: "hint", text: T.no_cards }),
    h("ol", { class: "ranked topics" }, topics.map((t) => {
      const group = board.groups.get(t.group);
      if (!group) return null;
      const current = t.group === step.current_topic && !(step.phase === "deeds" && discussed.includes(t.group));
      const done = discussed.includes(t.group);
      return h("li", { class: `topic${current ? " current" : ""}${done ? " discussed" : ""}`,
        "data-topic": t.group, "aria-current": current ? "true" : false },
      h("div", { class: "rank-head" },
        h("strong", { class: "group-name", id: `topic-name-${t.group}`, text: topicName(ctx, v, t.group) }),
        showVotes ? h("span", { class: "rank-votes", text: votesText(T, t.votes) }) : null),
      showVotes ? rankBar(t.votes, most) : null,
      current || done ? h("p", { class: "topic-state" },
        h("span", { class: current ? "tag live" : "tag done", text: current ? T.topic_now : T.topic_discussed }))
        : null,
      compactCards(group, board.cards),
      v.fac && !current ? h("button", { type: "button", class: "button small",
        "data-focus": `highlight-${t.group}`, "data-focus-fallback": "current-topic",
        "aria-describedby": `topic-name-${t.group}`,
        onclick: () => highlight(ctx, index, t.group) }, done ? T.discuss_again : T.discuss_now) : null);
    })),
  ];
}

// -- the topic being discussed, with its countdown ------------------------------------------------

function renderCurrent(el, ctx, v) {
  const { T } = ctx;
  const { step, index, board } = v;
  if (!TALKING.has(step.phase)) return clear(el);
  const discussed = step.discussed || [];
  const topic = step.current_topic && !(step.phase === "deeds" && discussed.includes(step.current_topic))
    ? step.current_topic : null;
  const timer = step.topic_timer || { ends_at: null, duration: 0 };
  const votes = (step.topics || []).find((t) => t.group === topic)?.votes ?? 0;
  const group = topic ? board.groups.get(topic) : null;
  keyed(el, JSON.stringify([topic, timer.ends_at, timer.duration, group, votes, v.fac, step.phase,
    ctx.projector]), () => {
    if (!topic) {
      return step.phase === "discuss" ? h("p", { class: "callout waiting-topic",
        text: v.fac ? T.pick_first_topic : T.waiting_first_topic }) : null;
    }
    return h("section", { class: "current-topic", "aria-labelledby": "current-topic-title" },
      h("p", { class: "eyebrow", text: T.now_discussing }),
      h("h3", { id: "current-topic-title", tabindex: "-1", "data-focus": "current-topic",
        text: topicName(ctx, v, topic) }),
      votes ? h("p", { class: "topic-votes", text: votesText(T, votes) }) : null,
      group ? compactCards(group, board.cards) : null,
      h("div", { class: "topic-timer" },
        timer.ends_at
          ? [h("span", { class: "visually-hidden", text: T.timebox }),
            h("span", { class: "topic-countdown", role: "timer", "data-topic": topic,
              "data-ends": timer.ends_at, "data-duration": timer.duration || 0 }),
            h("span", { class: "timer-bar", "aria-hidden": "true" }, h("span", { class: "topic-bar" }))]
          : h("span", { class: "no-timebox", text: T.no_timebox }),
        v.fac && timer.ends_at ? h("button", { type: "button", class: "button small",
          "data-focus": "extend-topic", "data-focus-fallback": "next-topic",
          onclick: () => ctx.send("extend_topic", { step: index, seconds: EXTEND_SECONDS }) },
        T.extend_topic) : null));
  });
}

function countdownElement() {
  return document.querySelector("#room .topic-countdown");
}

/** Count the topic's timebox down, from the server's deadline on the server's clock. */
function tick() {
  const el = countdownElement();
  if (!el || !last) {
    countdown.key = null;
    clearInterval(ticking);
    ticking = null;
    return;
  }
  const { T } = last.ctx;
  const ends = Number(el.dataset.ends);
  const duration = Number(el.dataset.duration);
  const now = Date.now() + (last.ctx.clockOffset || 0);
  const left = Math.max(0, Math.round((ends * 1000 - now) / 1000));
  const text = left > 0 ? format(T.topic_left, { time: clock(left) }) : T.topic_time_up;
  if (el.textContent !== text) el.textContent = text;
  el.closest(".topic-timer")?.classList.toggle("expired", left === 0);
  const bar = el.parentElement.querySelector(".topic-bar");
  if (bar) bar.style.width = `${duration ? Math.min(100, (left / duration) * 100) : 0}%`;
  // What had already happened when this deadline was first seen is not announced again.
  const key = `${el.dataset.topic}:${ends}`;
  if (countdown.key !== key) Object.assign(countdown, { key, warned: left <= 60, up: left === 0 });
  if (!countdown.warned && left > 0 && left <= 60) {
    countdown.warned = true;
    announce(T.say_topic_one_minute);
  }
  if (!countdown.up && left === 0) {
    countdown.up = true;
    announce(T.say_topic_time_up);
  }
}

// -- deeds: what, who, by when ---------------------------------------------------------------------

function renderDeeds(el, ctx, v) {
  const { T } = ctx;
  const { step } = v;
  if (!TALKING.has(step.phase)) return clear(el);
  el.classList.add("retro-deeds");
  const deeds = step.deeds || [];
  const part = slots(el, `deeds:${v.index}`, ["head", "form", "list"]);
  keyed(part.head, JSON.stringify([deeds.length, ctx.projector]), () => [
    h("h3", { id: "deeds-title", tabindex: "-1", "data-focus": "deeds-title" },
      T.deeds_title, " ", h("span", { class: "count", text: `(${deeds.length})` })),
    ctx.projector ? null : h("p", { class: "hint", text: T.deeds_help }),
    deeds.length ? null : h("p", { class: "hint", text: T.no_deeds }),
  ]);
  const full = deeds.length >= MAX_DEEDS;
  const members = ctx.state.members.map((m) => [m.id, m.name]);
  if (ctx.projector) clear(part.form);
  else {
    keyedKeeping(part.form, JSON.stringify([full, members, step.agreements]), () => (full
      ? h("p", { class: "hint", text: format(T.deeds_full, { n: MAX_DEEDS }) })
      : deedForm(ctx, v, null)));
  }
  keyed(part.list, "list", () => h("ul", { class: "deeds" }));
  keyedList(part.list.firstElementChild, deeds.map((deed) => ({
    id: deed.id,
    key: JSON.stringify([deed, ctx.name(deed.owner), deed.topic ? topicName(ctx, v, deed.topic) : null,
      local.editingDeed === deed.id, canEditDeed(ctx, v, deed), members, step.agreements]),
    build: () => deedItem(ctx, v, deed),
  })));
}

function canEditDeed(ctx, v, deed) {
  return !ctx.projector && (v.fac || (ctx.memberId !== null && deed.author === ctx.memberId));
}

function agreementText(v, id) {
  return (v.step.agreements || []).find((a) => a.id === id)?.text ?? null;
}

/** The form for a new deed (deed null) or for changing one. */
function deedForm(ctx, v, deed) {
  const { T } = ctx;
  const { step, index } = v;
  const suffix = deed ? `-${deed.id}` : "";
  const ids = { text: `deed-text${suffix}`, owner: `deed-owner${suffix}`, due: `deed-due${suffix}`,
    agreement: `deed-agreement${suffix}` };
  const text = textField("input", { type: "text", id: ids.text, "data-focus": ids.text, maxlength: DEED_LIMIT,
    autocomplete: "off", placeholder: deed ? false : T.deed_placeholder, required: true }, deed?.text ?? "");
  const owner = h("select", { id: ids.owner, "data-focus": ids.owner },
    h("option", { value: "", selected: !deed || deed.owner === null }, T.owner_everyone),
    ctx.state.members.map((m) => h("option", { value: m.id, selected: deed?.owner === m.id }, m.name)));
  const due = h("input", { type: "date", id: ids.due, "data-focus": ids.due, class: "date-input",
    value: deed?.due || "" });
  const agreements = step.agreements || [];
  const agreement = agreements.length ? h("select", { id: ids.agreement, "data-focus": ids.agreement },
    h("option", { value: "", selected: !deed?.agreement }, T.agreement_none),
    agreements.map((a) => h("option", { value: a.id, selected: deed?.agreement === a.id }, short(a.text, 60))))
    : null;
  const submit = h("button", { type: "submit", class: "button primary",
    "data-focus": deed ? `deed-save-${deed.id}` : "deed-add" }, deed ? T.save : T.add_deed);
  const close = () => {
    local.editingDeed = null;
    rerender();
    focusKey(`deed-edit-${deed.id}`);
  };
  text.addEventListener("keydown", (e) => { if (e.key === "Escape" && deed) close(); });
  const form = h("form", { class: deed ? "inline-form deed-form editing" : "deed-form",
    onsubmit: async (e) => {
      e.preventDefault();
      const value = text.value.replace(/\s+/g, " ").trim();
      if (!value) return text.focus();
      const payload = { step: index, text: value, owner: owner.value ? Number(owner.value) : null,
        due: due.value || "", agreement: agreement?.value || null };
      const ack = deed
        ? await sendOnce(ctx, submit, "edit_deed", { ...payload, deed: deed.id })
        : await sendOnce(ctx, submit, "add_deed", payload);
      if (!ack.ok) return;
      if (deed) return close();
      form.reset();
      text.value = "";
      text.focus();
    } },
  deed ? null : h("h4", { class: "deed-form-title", text: T.new_deed }),
  h("label", { for: ids.text, text: T.deed_text }),
  text,
  h("div", { class: "deed-fields" },
    h("div", { class: "deed-field" }, h("label", { for: ids.owner, text: T.deed_owner }), owner),
    h("div", { class: "deed-field" }, h("label", { for: ids.due, text: T.deed_due }), due),
    agreement ? h("div", { class: "deed-field" },
      h("label", { for: ids.agreement, text: T.deed_agreement }), agreement) : null),
  h("div", { class: "button-row" },
    submit,
    deed ? h("button", { type: "button", class: "button ghost", onclick: close }, T.cancel) : null));
  return form;
}

function deedItem(ctx, v, deed) {
  const { T } = ctx;
  const editable = canEditDeed(ctx, v, deed);
  if (editable && local.editingDeed === deed.id) {
    return h("li", { class: "deed editing" }, deedForm(ctx, v, deed));
  }
  const linked = deed.agreement ? agreementText(v, deed.agreement) : null;
  return h("li", { class: "deed", "data-deed": deed.id },
    h("p", { class: "deed-text", id: `deed-${deed.id}`, text: deed.text }),
    h("ul", { class: "deed-meta" },
      h("li", { class: "deed-owner" }, h("span", { class: "meta-label", text: T.deed_owner_label }), " ",
        h("strong", { text: deed.owner === null || deed.owner === undefined ? T.owner_everyone
          : ctx.name(deed.owner) })),
      deed.due ? h("li", { class: "deed-due" }, h("span", { class: "meta-label", text: T.deed_due_label }), " ",
        h("strong", { text: showDate(deed.due) })) : null,
      linked ? h("li", { class: "deed-agreement" },
        h("span", { class: "meta-label", text: T.deed_agreement_label }), " ", h("strong", { text: linked }))
        : null,
      deed.topic && v.board.groups.has(deed.topic) ? h("li", { class: "deed-topic" },
        h("span", { class: "meta-label", text: T.deed_topic_label }), " ",
        h("span", { text: short(topicName(ctx, v, deed.topic), 60) })) : null),
    editable ? h("div", { class: "card-actions" },
      h("button", { type: "button", class: "link-button", "data-focus": `deed-edit-${deed.id}`,
        "aria-describedby": `deed-${deed.id}`, onclick: () => {
          local.editingDeed = deed.id;
          rerender();
          focusKey(`deed-text-${deed.id}`);
        } }, T.edit),
      h("button", { type: "button", class: "link-button danger", "data-focus": `deed-delete-${deed.id}`,
        "data-focus-fallback": "deeds-title", "aria-describedby": `deed-${deed.id}`,
        onclick: () => ctx.send("delete_deed", { step: v.index, deed: deed.id }) }, T.delete)) : null);
}
