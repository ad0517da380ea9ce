// The card board that the purpose and retrospective steps share: the phases, the writing
// status, one's own cards while writing, grouping by drag and drop or by the keyboard's
// "Move to", group titles, and the dot-vote board.
//
// What differs between the steps comes in as arguments: how the groups are laid out (one
// list, or columns), a card's meta line, the vote's words and per-topic limit. What only
// this browser knows (the card being edited or dragged) stays in the step's own `local`.
import { format, h } from "./dom.js";
import { focusKey, short, textField } from "./live.js";

const CARD_LIMIT = 280;
const TITLE_LIMIT = 80;

/** Where the step is, as an ordered list of its phases. */
export function phaseSteps(T, phases, phase, skipped = []) {
  const at = phases.indexOf(phase);
  const state = (p, i) => (i === at ? "current" : skipped.includes(p) ? "skipped" : i < at ? "done" : "");
  return h("ol", { class: "phase-steps", "aria-label": T.purpose_phases }, phases.map((p, i) =>
    h("li", { class: state(p, i), "aria-current": i === at ? "step" : false },
      T[`phase_${p}`],
      skipped.includes(p) ? h("span", { class: "visually-hidden", text: ` (${T.phase_skipped})` }) : null)));
}

/** The votes I have left: the budget the facilitator set, less the votes I gave. */
export function votesLeft(step, votes) {
  const spent = Object.values(votes || {}).reduce((sum, n) => sum + n, 0);
  return Math.max(0, (step.votes_per_person || 0) - spent);
}

/** The names of who wrote cards (none in an anonymous step). */
export function writersOf(ctx, step) {
  return step.anonymous ? [] : (step.writers || []).map((id) => ctx.name(id));
}

/** While writing: how many cards there are, and who wrote. */
export function writingStatus(T, written, writers) {
  return [
    h("p", { class: "callout" }, format(T.purpose_written, { count: written })),
    writers.length ? h("ul", { class: "chips", "aria-label": T.purpose_writers },
      writers.map((name) => h("li", { text: name }))) : null,
  ];
}

/** The facilitator's reveal of the cards, closing the writing. */
export function revealCards(ctx, index, fallback) {
  const { T } = ctx;
  return [
    h("p", { class: "hint", text: T.reveal_cards_hint }),
    h("button", { type: "button", class: "button primary", "data-focus": "reveal-cards",
      "data-focus-fallback": fallback, onclick: () => ctx.send("reveal", { step: index }) }, T.reveal_cards),
  ];
}

/** The facilitator's close of the vote. */
export function closeVoting(ctx, index, fallback) {
  return h("button", { type: "button", class: "button primary", "data-focus": "close-voting",
    "data-focus-fallback": fallback, onclick: () => ctx.send("close_voting", { step: index }) },
  ctx.T.close_voting);
}

/** The cards by id. */
export function cardIndex(step) {
  return new Map((step.cards || []).map((c) => [c.id, c]));
}

/** A group's name: its title, or else the text of its first card. */
export function groupName(group, cards) {
  return group?.title || cards.get(group?.cards[0])?.text || "";
}

/** A group's cards as a short list (none for a card on its own without a title). */
export function compactCards(group, cards) {
  return group.cards.length > 1 || group.title ? h("ul", { class: "pcards compact" },
    group.cards.map((id) => cards.get(id)).filter(Boolean).map((card) =>
      h("li", { class: "pcard", text: card.text }))) : null;
}

/** A bar for a ranked group's votes, as a share of the most votes. */
export function rankBar(votes, most) {
  return h("span", { class: "rank-bar", "aria-hidden": "true" },
    h("span", { class: "bar", style: { width: `${(votes / most) * 100}%` } }));
}

/**
 * The form that adds a card to a column: Enter adds it, Shift+Enter starts a new line.
 *
 * `label` names the field (and the button too, with `nameButton`); `after` follows the
 * buttons (a hint).
 */
export function addCardForm(ctx, v, column, { label, placeholder, describedBy, nameButton = false,
  after = null }) {
  const { T } = ctx;
  const id = `card-text-${column}`;
  const area = textField("textarea", { id, rows: 2, maxlength: CARD_LIMIT, "data-focus": id,
    placeholder, "aria-describedby": describedBy });
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
  h("label", { for: id, class: "visually-hidden", text: label }),
  area,
  h("div", { class: "button-row" },
    h("button", { type: "submit", class: "button", "data-focus": `card-add-${column}`,
      "aria-label": nameButton ? label : false }, T.add_card)),
  after);
}

/**
 * The board's parts that keep a step's local state: `local` holds `editing` (the id of my
 * card being edited) and `dragging` (the id of the card being dragged); `rerender()`
 * draws the step again after a local change.
 */
export function cardBoard({ local, rerender }) {
  /** My own cards in one column while writing (or nothing), each editable in place. */
  function ownCards(ctx, v, own, title) {
    if (!own.length) return null;
    return h("ul", { class: "pcards own", "aria-label": format(ctx.T.your_cards_in, { column: title }) },
      own.map((card) => (local.editing === card.id ? editCard(ctx, v, card) : ownCard(ctx, v, card))));
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

  /**
   * The grouping board: drag a card onto a group (or onto "on its own"), or pick where it
   * goes with "Move to"; a group of two or more cards gets a title.
   *
   * `canGroup`: this browser may move cards and title groups; `meta(card, columnKey)`: the
   * line under a card's text; `layout(groupItem)`: the groups laid out, where
   * `groupItem(group, columnKey)` builds one.
   */
  function groupBoard(ctx, v, { canGroup, meta, layout }) {
    const { T } = ctx;
    const { step, index } = v;
    const cards = cardIndex(step);
    const groupOf = (cardId) => step.groups.find((g) => g.cards.includes(cardId));

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
        e.stopPropagation();
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

    const cardItem = (card, columnKey) => h("li", {
      class: "pcard", "data-card": card.id, draggable: canGroup ? "true" : false,
      ondragstart: canGroup ? (e) => {
        local.dragging = card.id;
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/plain", card.id);
        e.currentTarget.classList.add("dragging");
        e.stopPropagation();
      } : null,
      ondragend: canGroup ? (e) => {
        local.dragging = null;
        e.currentTarget.classList.remove("dragging");
        for (const over of document.querySelectorAll(".drag-over")) over.classList.remove("drag-over");
      } : null,
    },
    h("p", { class: "pcard-text", id: `text-${card.id}`, text: card.text }),
    meta(card, columnKey),
    canGroup ? moveControl(card) : null);

    const groupItem = (group, columnKey) => {
      const stack = group.cards.length > 1;
      const item = h("li", { class: stack ? "pgroup stack" : "pgroup", "data-group": group.id },
        stack ? titleForm(ctx, v, group, canGroup) : null,
        h("ul", { class: "pcards", "aria-label": stack ? format(T.group_of, {
          title: short(groupName(group, cards)), count: group.cards.length }) : T.card_alone },
        group.cards.map((id) => cards.get(id)).filter(Boolean).map((card) => cardItem(card, columnKey))));
      if (canGroup) dropTarget(item, group.id);
      return item;
    };

    const alone = canGroup ? h("div", { class: "drop-zone", "data-drop": "alone" },
      h("span", { text: T.drop_alone })) : null;
    if (alone) dropTarget(alone, null);
    return [
      h("h3", { class: "visually-hidden", text: T.cards_heading }),
      layout(groupItem),
      alone,
    ];
  }

  return { ownCards, groupBoard };
}

/** A group's title: a field to change it where one may group, else the title as a heading. */
function titleForm(ctx, v, group, canGroup) {
  const { T } = ctx;
  if (!canGroup) return h("h4", { class: "group-title-text", text: group.title || T.untitled_group });
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
  return h("form", { class: "group-title", onsubmit: (e) => {
    e.preventDefault();
    save();
  } },
  h("label", { for: id, text: T.group_title }),
  h("div", { class: "copy-row" }, input,
    h("button", { type: "submit", class: "button small", "data-focus": `title-save-${group.id}` },
      T.save)));
}

/**
 * The dot-vote board: every group with my votes and a button to give or take one back.
 *
 * `word` ("dot" or "vote") picks the data-focus keys and texts (`your_dots`, `dot_add`,
 * `dot_add_short`, `dot_remove`, `dot_remove_short`, or the same with "vote"); `limit` is the
 * most votes one person may give one group; `layout(groupItem)` lays the groups out.
 */
export function voteBoard(ctx, v, { word, limit = Infinity, layout }) {
  const { T } = ctx;
  const { step, index, mine } = v;
  const cards = cardIndex(step);
  const votes = mine.votes || {};
  const groupItem = (group) => {
    const name = groupName(group, cards);
    const n = votes[group.id] || 0;
    const full = n >= limit;
    return h("li", { class: n ? "pgroup voted" : "pgroup", "data-group": group.id },
      h("h4", { class: "group-name", id: `name-${group.id}`, text: name }),
      compactCards(group, cards),
      ctx.projector ? null : h("div", { class: "dots" },
        h("span", { class: "my-dots", "aria-hidden": "true", text: "●".repeat(n) }),
        h("span", { class: "dot-count" }, format(T[`your_${word}s`], { count: n }),
          full && mine.votes_left > 0 ? h("span", { class: "vote-full", text: ` · ${T.vote_limit_reached}` })
            : null),
        h("span", { class: "dot-buttons" },
          h("button", { type: "button", class: "button small", "data-focus": `${word}-remove-${group.id}`,
            "data-focus-fallback": `${word}-add-${group.id}`, disabled: n === 0,
            "aria-label": format(T[`${word}_remove`], { title: short(name) }), title: T[`${word}_remove_short`],
            onclick: () => ctx.send("unvote", { step: index, group: group.id }) }, "−"),
          h("button", { type: "button", class: "button small primary", "data-focus": `${word}-add-${group.id}`,
            "data-focus-fallback": `${word}-remove-${group.id}`, disabled: mine.votes_left <= 0 || full,
            "aria-label": format(T[`${word}_add`], { title: short(name) }), title: T[`${word}_add_short`],
            onclick: () => ctx.send("vote", { step: index, group: group.id }) }, "+"))));
  };
  return [
    h("h3", { class: "visually-hidden", text: T.dot_voting }),
    layout(groupItem),
  ];
}
