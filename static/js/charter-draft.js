// The room's charter draft: what the room ratified, waiting to be published as the
// team charter's next version. A panel beside the stage in rooms with a charter step.
import { format, h, keyed } from "./dom.js";
import { agreementTexts, announce, short, showDate } from "./live.js";

let seenNumber; // the published version last shown, to announce a new one

/** Render the charter-draft panel from `state.charter`, or hide it when the room has none. */
export function renderCharterDraft(ctx) {
  const panel = document.getElementById("charter-draft");
  if (!panel) return;
  const charter = ctx.state.charter;
  panel.hidden = !charter;
  if (!charter) {
    delete panel.dataset.key;
    return;
  }
  const { T } = ctx;
  const number = charter.published?.number ?? null;
  if (seenNumber !== undefined && number !== null && number !== seenNumber) {
    announce(format(T.published_as, { n: number }));
  }
  seenNumber = number;

  // The draft can still be published after the room ended, so that ending loses nothing.
  const status = ctx.state.room.status;
  const fac = ctx.isFacilitator() && !ctx.projector && status !== "lobby";
  const link = document.getElementById("room").dataset.charter || null;
  const changes = draftChanges(T, charter.draft || {});
  const conflicts = charter.dirty ? (charter.conflicts || []).map((c) => conflictText(T, c)) : [];
  const blocked = fac && charter.dirty && !charter.can_publish
    ? T[`publish_blocked_${charter.blocked}`] || T.publish_blocked : null;
  keyed(panel, JSON.stringify([charter, changes, fac, link, status]), () => [
    h("h2", { id: "charter-draft-title", tabindex: "-1", "data-focus": "charter-draft-title",
      text: T.charter_draft }),
    changes.length
      ? [h("p", { class: "hint small", text: charter.dirty || !charter.published
        ? T.charter_draft_help : T.charter_draft_published }),
      h("ul", { class: "draft-changes" }, changes.map((c) => h("li", { class: `change ${c.kind}` },
        h("span", { class: "change-kind", text: c.label }),
        c.text ? h("span", { class: "change-text", text: c.text }) : null,
        c.date ? h("span", { class: "hint small", text: format(T.review_by, { date: showDate(c.date) }) })
          : null)))]
      : h("p", { class: "hint small", text: T.charter_draft_empty }),
    // Warn before publishing: these ratified changes meet a charter that changed meanwhile.
    conflicts.length ? h("div", { class: "draft-conflicts callout warning small" },
      h("p", { text: T.draft_conflicts }),
      h("ul", {}, conflicts.map((text) => h("li", { text })))) : null,
    fac && status === "ended" && charter.can_publish
      ? h("p", { class: "hint small", text: T.publish_after_end }) : null,
    charter.published ? h("div", { class: "published" },
      h("p", { class: "callout small", "data-focus": "published", tabindex: "-1" },
        format(T.published_as, { n: charter.published.number })),
      link ? h("a", { href: link, "data-focus": "charter-link" }, T.open_charter) : null,
      charter.dirty ? h("p", { class: "hint small", text: T.charter_draft_unpublished }) : null) : null,
    fac && charter.can_publish ? h("button", { type: "button", class: "button primary wide",
      "data-focus": "publish", "data-focus-fallback": "published charter-draft-title",
      onclick: async (e) => {
        const button = e.currentTarget;
        if (button.disabled || !window.confirm(T.confirm_publish)) return;
        // One click, one version: a second click waits for the answer (the server also
        // publishes one draft only once).
        button.disabled = true;
        const ack = await ctx.send("publish", {});
        if (!ack.ok) button.disabled = false;
      } }, T.publish) : null,
    blocked ? h("p", { class: "hint small", text: blocked }) : null,
  ]);
}

/** Why a ratified change will not be applied, as one sentence. */
function conflictText(T, conflict) {
  if (conflict.change === "purpose") return T.conflict_purpose;
  const removed = conflict.reason === "removed";
  const old = short(conflict.change === "retire" ? conflict.text : conflict.old || conflict.text, 60);
  if (conflict.change === "retire") {
    return format(removed ? T.conflict_retire_removed : T.conflict_retire_changed, { old });
  }
  return format(removed ? T.conflict_amend_removed : T.conflict_amend_changed, { old });
}

/** What publishing the draft will change, in the order the room agreed it. */
function draftChanges(T, draft) {
  const changes = [];
  if (draft.purpose !== null && draft.purpose !== undefined) {
    changes.push({ kind: "purpose", label: T.draft_purpose, text: draft.purpose });
  }
  for (const op of draft.ops || []) {
    if (op.op === "add") {
      changes.push({ kind: "add", label: T.draft_add, text: op.text, date: op.review_date });
    } else if (op.op === "amend") {
      changes.push({ kind: "amend", label: T.draft_amend, text: op.text, date: op.review_date });
    } else if (op.op === "retire") {
      const text = op.text || agreementTexts.get(op.id) || "";
      changes.push({ kind: "retire", label: text ? T.draft_retire : T.draft_retire_unknown, text });
    }
  }
  return changes;
}
