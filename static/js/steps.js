// Rendering of the room's stage: lobby, check-in round, check-out, ended.
//
// Every part is rebuilt only when its key (the data it shows) changes, so live updates
// leave focus, typing and screen readers alone. Controls carry a stable `data-focus` key:
// when a rebuild replaces a focused control, room.js focuses the new one with that key,
// or else the first of its `data-focus-fallback` keys that exists, or else the heading.
import { renderAgreements } from "./agreements.js";
import { renderCharterDraft } from "./charter-draft.js";
import { fill, format, h, keyed } from "./dom.js";
import { renderPurpose } from "./purpose.js";
import { renderRetro } from "./retro.js";
import { showNumber } from "./live.js";
import { renderAgreementsCheck, renderDeedsReview } from "./review.js";

/** Render the stage for the current state. */
export function renderStep(stage, ctx) {
  const s = ctx.state;
  const status = s.room.status;
  renderCharterDraft(ctx);
  if (status === "lobby") return renderLobby(stage, ctx);
  if (status === "ended") return renderEnded(stage, ctx);
  const step = s.step;
  const parts = ensureParts(stage, `${s.room.step_index}:${step.kind}`);
  const heading = format(ctx.T.step_of, { n: s.room.step_index + 1, total: s.agenda.length });
  const kindLabel = step.kind === "checkin"
    ? `${ctx.T.kind_checkin} · ${ctx.T[`mode_${step.mode}`]}`
    : step.kind === "retro" && ctx.T[`format_${step.format}`]
      ? `${ctx.T.kind_retro} · ${ctx.T[`format_${step.format}`]}` : ctx.T[`kind_${step.kind}`];
  const prompt = step.kind === "checkin" ? ctx.PROMPTS[step.prompt_id] || step.prompt : null;
  keyed(parts.head, JSON.stringify([heading, kindLabel, prompt]), () => [
    h("p", { class: "eyebrow", text: heading }),
    stageTitle(kindLabel),
    prompt !== null ? h("blockquote", { class: "prompt", text: prompt }) : null,
  ]);
  // What every part of a running step starts from.
  const index = s.room.step_index;
  const view = { T: ctx.T, state: s, step, index, mine: ctx.me.steps[index] };
  if (step.kind === "purpose") return renderPurpose(parts, ctx, view);
  if (step.kind === "agreements") return renderAgreements(parts, ctx, view);
  if (step.kind === "retro") return renderRetro(parts, ctx, view);
  if (step.kind === "deeds_review") return renderDeedsReview(parts, ctx, view);
  if (step.kind === "agreements_check") return renderAgreementsCheck(parts, ctx, view);
  if (step.kind === "checkin" && step.mode === "round") renderRound(parts, ctx, view);
  else renderWriting(parts, ctx, view);
  renderScales(parts, ctx, view);
}

/** The stage's heading: where focus lands when the step changes. */
function stageTitle(text) {
  return h("h2", { id: "stage-title", tabindex: "-1", "data-focus": "stage-title", text });
}

function ensureParts(stage, key) {
  if (stage.dataset.key !== key) {
    stage.dataset.key = key;
    fill(stage,
      h("div", { class: "stage-head", "data-part": "head" }),
      h("div", { class: "stage-status", "data-part": "status" }),
      h("div", { class: "stage-form", "data-part": "form" }),
      h("div", { class: "stage-answers", "data-part": "answers" }),
      h("div", { class: "stage-scales", "data-part": "scales" }),
      h("div", { class: "stage-results", "data-part": "results", "aria-live": "polite" }));
  }
  const part = (name) => stage.querySelector(`[data-part="${name}"]`);
  return { head: part("head"), status: part("status"), form: part("form"),
    answers: part("answers"), scales: part("scales"), results: part("results") };
}

/** Like `keyed`, for the forms a participant fills in; the projector shows none. */
function form(ctx, el, key, build) {
  if (ctx.projector) return keyed(el, "projector", () => null);
  return keyed(el, key, build);
}

function renderLobby(stage, ctx) {
  const fac = ctx.isFacilitator() && !ctx.projector;
  const room = document.getElementById("room");
  keyed(stage, JSON.stringify(["lobby", fac, ctx.projector]), () => [
    stageTitle(ctx.T.lobby_title),
    h("p", { class: "lead", text: ctx.projector ? ctx.T.lobby_projector
      : fac ? ctx.T.lobby_facilitator : ctx.T.lobby_member }),
    ctx.projector ? h("figure", { class: "projector-qr" },
      h("img", { src: room.dataset.qr, alt: ctx.T.qr_alt, width: 320, height: 320 }),
      h("figcaption", { class: "mono", text: room.dataset.share })) : null,
    fac ? h("button", { type: "button", class: "button primary big", "data-focus": "start-stage",
      onclick: () => ctx.send("start") }, ctx.T.start) : null,
  ]);
}

function renderEnded(stage, ctx) {
  keyed(stage, "ended", () => [
    stageTitle(ctx.T.ended_title),
    h("p", { class: "lead", text: ctx.T.ended_text }),
    h("a", { class: "button primary", href: document.getElementById("room").dataset.summary,
      "data-focus": "summary" }, ctx.T.open_summary),
  ]);
}

/** The talking stick: order, current speaker, their live answer, passing. */
function renderRound(parts, ctx, view) {
  const { T, state, step, index, mine } = view;
  const me = ctx.memberId;
  const speaking = me !== null && step.speaker === me;
  const inOrder = me !== null && step.order.includes(me);
  const done = step.heard.includes(me) || step.passed.includes(me);
  const speaker = step.speaker === null ? null : ctx.name(step.speaker);
  const waiting = step.speaker === null ? [] : step.waiting.map((id) => ctx.name(id));

  // The announcer (room.js) tells screen readers whose turn it is; no second live region here.
  keyed(parts.status, JSON.stringify(["round", speaker, speaking, waiting]), () => [
    h("p", { class: speaking ? "callout turn" : "callout" },
      speaker === null ? T.round_done : speaking ? T.your_turn : format(T.turn_of, { name: speaker })),
    waiting.length ? h("p", { class: "hint", text: format(T.not_heard, { names: waiting.join(", ") }) })
      : null,
  ]);

  const fac = ctx.isFacilitator();
  const built = form(ctx, parts.form, JSON.stringify([index, speaking, inOrder && !done, fac,
    step.speaker !== null, mine.answer !== null]), () => {
    const pass = inOrder && !done ? h("button", { type: "button", class: "button ghost",
      "data-focus": "pass", "data-focus-fallback": "pass-turn",
      onclick: () => ctx.send("pass", { step: index }) }, T.pass) : null;
    if (speaking) {
      const area = h("textarea", { id: "answer", rows: 3, maxlength: 1000, "data-focus": "answer" });
      area.value = mine.answer || "";
      return h("form", { class: "answer-form", onsubmit: (e) => {
        e.preventDefault();
        ctx.send("answer", { step: index, text: area.value });
      } },
      h("label", { for: "answer", text: T.your_answer }), area,
      h("div", { class: "button-row" },
        h("button", { type: "submit", class: "button primary", "data-focus": "answer-share" },
          T.share_answer),
        h("button", { type: "button", class: "button", "data-focus": "done-turn",
          onclick: () => ctx.send("pass_turn", { step: index }) }, T.done_turn),
        pass));
    }
    const items = [
      fac && step.speaker !== null ? h("button", { type: "button", class: "button",
        "data-focus": "pass-turn", onclick: () => ctx.send("pass_turn", { step: index }) },
      T.pass_turn_for) : null,
      pass,
    ].filter(Boolean);
    if (!items.length) return null;
    // A member waiting for the stick learns why "Pass" is there.
    return [pass ? h("p", { class: "hint", text: T.pass_hint }) : null,
      h("div", { class: "button-row" }, items)];
  });
  // When the stick reaches me in the middle of a step, my answer box gets focus.
  const wasSpeaking = parts.form.dataset.speaking === "1";
  parts.form.dataset.speaking = speaking ? "1" : "";
  if (built && speaking && !wasSpeaking) ctx.focusRequest = "answer";

  const order = step.order.map((id) => [id, ctx.name(id), step.answers[String(id)] || null]);
  keyed(parts.answers, JSON.stringify([order, step.speaker, step.heard, step.passed]), () => [
    h("h3", { class: "visually-hidden", text: T.order }),
    h("ol", { class: "talking-order", "aria-label": T.order }, order.map(([id, name, answer]) => {
      const state = id === step.speaker ? "speaking"
        : step.heard.includes(id) ? "heard" : step.passed.includes(id) ? "passed" : "waiting";
      return h("li", { class: state, "aria-current": state === "speaking" ? "true" : false },
        h("span", { class: "person-name", text: name }),
        state !== "waiting" ? h("span", { class: `tag ${state}`, text: T[state] }) : null,
        answer ? h("p", { class: "answer-text", text: answer }) : null);
    })),
  ]);
}

/** Everyone writes (simultaneous check-in, check-out); hidden until the reveal. */
function renderWriting(parts, ctx, view) {
  const { T, state, step, index, mine } = view;
  const checkout = step.kind === "checkout";
  const total = state.members.filter((m) => m.online || step.answered.includes(m.id)).length;
  const answered = step.answered.map((id) => ctx.name(id));
  const canReveal = !step.revealed && ctx.isFacilitator() && !ctx.projector;

  keyed(parts.status, JSON.stringify(["writing", answered, total, step.revealed, canReveal]), () => [
    h("p", { class: "callout" }, format(T.answered_count, { count: answered.length, total })),
    answered.length ? h("ul", { class: "chips", "aria-label": T.answered_by.replace(/%\(names\)s/, "") },
      answered.map((name) => h("li", { text: name }))) : null,
    !step.revealed ? h("p", { class: "hint", text: T.hidden_until_reveal }) : null,
    canReveal ? h("button", { type: "button", class: "button primary", "data-focus": "reveal",
      "data-focus-fallback": "answers-title",
      onclick: () => ctx.send("reveal", { step: index }) }, T.reveal) : null,
  ]);

  form(ctx, parts.form, JSON.stringify([index, mine.passed, mine.answer]), () => {
    const field = checkout
      ? h("input", { id: "answer", type: "text", maxlength: 40, autocomplete: "off", "data-focus": "answer" })
      : h("textarea", { id: "answer", rows: 3, maxlength: 1000, "data-focus": "answer" });
    field.value = mine.answer || "";
    return h("form", { class: "answer-form", onsubmit: (e) => {
      e.preventDefault();
      ctx.send("answer", { step: index, text: field.value });
    } },
    h("label", { for: "answer", text: checkout ? T.your_word : T.your_answer }),
    mine.passed ? h("p", { class: "hint", text: T.you_passed }) : null,
    field,
    h("div", { class: "button-row" },
      h("button", { type: "submit", class: "button primary", "data-focus": "answer-submit" },
        mine.answer ? T.update_answer : T.save_answer),
      !mine.passed ? h("button", { type: "button", class: "button ghost", "data-focus": "pass",
        "data-focus-fallback": "answer-submit",
        onclick: () => ctx.send("pass", { step: index }) }, T.pass) : null));
  });

  const answers = Object.entries(step.answers).map(([id, text]) => [ctx.name(Number(id)), text]);
  keyed(parts.answers, JSON.stringify([step.revealed, answers]), () => step.revealed ? [
    h("h3", { tabindex: "-1", "data-focus": "answers-title", text: T.answers }),
    answers.length
      ? h("ul", { class: checkout ? "chips words" : "answers" }, answers.map(([name, text]) =>
        h("li", {}, h("strong", { text: name }), " ", h("span", { class: "answer-text", text }))))
      : h("p", { text: T.no_answers }),
  ] : null);
}

/** Anonymous 1-5 scales: a form until answered, then only the team's aggregate. */
function renderScales(parts, ctx, view) {
  const { T, state, step, index, mine } = view;
  if (!step.scales.length) {
    keyed(parts.scales, "none", () => null);
    keyed(parts.results, "none", () => null);
    return;
  }
  const checkout = step.kind === "checkout";
  const results = step.scale_results;
  form(ctx, parts.scales, JSON.stringify([index, mine.rated, results.revealed]), () => {
    const done = (text) => h("p", { class: "hint", tabindex: "-1", "data-focus": "scales-done", text });
    if (mine.rated) return done(T.scales_sent);
    if (results.revealed) return done(T.scales_closed);
    const groups = step.scales.map((scale) => h("fieldset", { class: "scale" },
      h("legend", { text: T[`scale_${scale}`] }),
      h("div", { class: "scale-options" }, [1, 2, 3, 4, 5].map((n) => h("label", { class: "scale-option" },
        h("input", { type: "radio", name: `scale-${scale}`, value: n, required: true,
          "data-focus": `scale-${scale}-${n}`, "data-focus-fallback": "scales-done" }),
        h("span", { text: n }))))));
    return h("form", { class: "scales-form", onsubmit: (e) => {
      e.preventDefault();
      const values = {};
      for (const scale of step.scales) {
        const picked = e.target.querySelector(`input[name="scale-${scale}"]:checked`);
        if (picked) values[scale] = Number(picked.value);
      }
      ctx.send("rate", { step: index, values });
    } },
    checkout ? null : h("h3", { text: T.scales_title }),
    h("p", { class: "hint", text: checkout ? T.roti_help : T.scales_help }),
    groups,
    h("button", { type: "submit", class: "button", "data-focus": "scales-submit",
      "data-focus-fallback": "scales-done" }, T.send_scales));
  });

  // A live region: rebuilt (and so read out) only when the results themselves change.
  const revealButton = step.kind === "checkin" && step.mode === "round" && !results.revealed
    && ctx.isFacilitator() && !ctx.projector;
  const waiting = results.revealed ? T.scales_too_few
    : results.enough ? T.scales_enough : T.scales_waiting;
  keyed(parts.results, JSON.stringify([results, revealButton]), () => !results.ready ? [
    h("p", { class: "hint", text: waiting }),
    revealButton ? h("button", { type: "button", class: "button", "data-focus": "reveal-scales",
      "data-focus-fallback": "results-title",
      onclick: () => ctx.send("reveal", { step: index }) }, T.reveal_scales) : null,
  ] : [
    h("h3", { tabindex: "-1", "data-focus": "results-title",
      text: format(T.scales_results, { count: results.count }) }),
    Object.entries(results.scales).map(([scale, data]) => {
      const most = Math.max(1, ...data.distribution);
      return h("figure", { class: "histogram" },
        h("figcaption", {}, h("strong", { text: T[`scale_${scale}`] }), " ",
          data.average !== null ? format(T.average, { value: showNumber(data.average) }) : ""),
        h("table", { class: "bars" },
          h("tbody", {}, data.distribution.map((count, i) => h("tr", {},
            h("th", { scope: "row", text: i + 1 }),
            h("td", {}, h("span", { class: "bar", style: { width: `${(count / most) * 100}%` } }),
              h("span", { class: "bar-count", text: count })))))));
    }),
  ]);
}
