// Rendering of the room's stage: lobby, check-in round, check-out, ended.
import { fill, format, h } from "./dom.js";

/** Render the stage for the current state; forms are rebuilt only when their shape changes. */
export function renderStep(stage, ctx) {
  const s = ctx.state;
  const status = s.room.status;
  if (status === "lobby") return renderLobby(stage, ctx);
  if (status === "ended") return renderEnded(stage, ctx);
  const step = s.step;
  const parts = ensureParts(stage, `${s.room.step_index}:${step.kind}`);
  const heading = format(ctx.T.step_of, { n: s.room.step_index + 1, total: s.agenda.length });
  const kindLabel = step.kind === "checkin"
    ? `${ctx.T.kind_checkin} · ${ctx.T[`mode_${step.mode}`]}` : ctx.T.kind_checkout;
  fill(parts.head,
    h("p", { class: "eyebrow", text: heading }),
    h("h2", { id: "stage-title", text: kindLabel }),
    step.kind === "checkin"
      ? h("blockquote", { class: "prompt", text: ctx.PROMPTS[step.prompt_id] || step.prompt }) : null);
  if (step.kind === "checkin" && step.mode === "round") renderRound(parts, ctx);
  else renderWriting(parts, ctx);
  renderScales(parts, ctx);
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

/** Rebuild `el` only when `key` changed, so typing and focus survive live updates. */
function keyed(el, key, build) {
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  fill(el, build());
}

/** Like `keyed`, for the forms a participant fills in; the projector shows none. */
function form(ctx, el, key, build) {
  if (ctx.projector) return fill(el);
  return keyed(el, key, build);
}

function renderLobby(stage, ctx) {
  stage.dataset.key = "lobby";
  const fac = ctx.isFacilitator() && !ctx.projector;
  const qr = document.getElementById("room").dataset.qr;
  fill(stage,
    h("h2", { id: "stage-title", text: ctx.T.lobby_title }),
    h("p", { class: "lead", text: ctx.projector ? ctx.T.lobby_projector
      : fac ? ctx.T.lobby_facilitator : ctx.T.lobby_member }),
    ctx.projector ? h("figure", { class: "projector-qr" },
      h("img", { src: qr, alt: ctx.T.qr_alt, width: 320, height: 320 }),
      h("figcaption", { class: "mono", text: document.getElementById("share-link").value })) : null,
    fac ? h("button", { type: "button", class: "button primary big",
      onclick: () => ctx.send("start") }, ctx.T.start) : null);
}

function renderEnded(stage, ctx) {
  stage.dataset.key = "ended";
  fill(stage,
    h("h2", { id: "stage-title", text: ctx.T.ended_title }),
    h("p", { class: "lead", text: ctx.T.ended_text }),
    h("a", { class: "button primary", href: document.getElementById("room").dataset.summary },
      ctx.T.open_summary));
}

/** The talking stick: order, current speaker, their live answer, passing. */
function renderRound(parts, ctx) {
  const { T, state } = ctx;
  const step = state.step;
  const index = state.room.step_index;
  const mine = ctx.me.steps[index];
  const speaking = step.speaker === ctx.memberId;
  const inOrder = step.order.includes(ctx.memberId);
  const done = step.heard.includes(ctx.memberId) || step.passed.includes(ctx.memberId);

  fill(parts.status,
    h("p", { class: speaking ? "callout turn" : "callout", role: "status" },
      step.speaker === null ? T.round_done
        : speaking ? T.your_turn : format(T.turn_of, { name: ctx.name(step.speaker) })),
    step.waiting.length && step.speaker !== null
      ? h("p", { class: "hint", text: format(T.not_heard, {
        names: step.waiting.map((id) => ctx.name(id)).join(", ") }) }) : null);

  form(ctx, parts.form, JSON.stringify([index, speaking, inOrder && !done, ctx.isFacilitator(),
    step.speaker, mine.answer !== null]), () => {
    const items = [];
    if (speaking) {
      const area = h("textarea", { id: "answer", rows: 3, maxlength: 1000 });
      area.value = mine.answer || "";
      items.push(h("form", { class: "answer-form", onsubmit: (e) => {
        e.preventDefault();
        ctx.send("answer", { step: index, text: area.value });
      } },
      h("label", { for: "answer", text: T.your_answer }), area,
      h("div", { class: "button-row" },
        h("button", { type: "submit", class: "button primary" }, T.share_answer),
        h("button", { type: "button", class: "button",
          onclick: () => ctx.send("pass_turn", { step: index }) }, T.done_turn))));
      setTimeout(() => area.focus(), 0);
    } else if (ctx.isFacilitator() && step.speaker !== null) {
      items.push(h("button", { type: "button", class: "button",
        onclick: () => ctx.send("pass_turn", { step: index }) }, T.pass_turn_for));
    }
    if (inOrder && !done) {
      items.push(h("button", { type: "button", class: "button ghost",
        onclick: () => ctx.send("pass", { step: index }) }, T.pass));
    }
    return h("div", { class: "button-row" }, items);
  });

  fill(parts.answers,
    h("h3", { class: "visually-hidden", text: T.order }),
    h("ol", { class: "talking-order", "aria-label": T.order }, step.order.map((id) => {
      const state = id === step.speaker ? "speaking"
        : step.heard.includes(id) ? "heard" : step.passed.includes(id) ? "passed" : "waiting";
      const answer = step.answers[String(id)];
      return h("li", { class: state, "aria-current": state === "speaking" ? "true" : false },
        h("span", { class: "person-name", text: ctx.name(id) }),
        state !== "waiting" ? h("span", { class: `tag ${state}`, text: T[state] }) : null,
        answer ? h("p", { class: "answer-text", text: answer }) : null);
    })));
}

/** Everyone writes (simultaneous check-in, check-out); hidden until the reveal. */
function renderWriting(parts, ctx) {
  const { T, state } = ctx;
  const step = state.step;
  const index = state.room.step_index;
  const mine = ctx.me.steps[index];
  const checkout = step.kind === "checkout";
  const total = state.members.filter((m) => m.online || step.answered.includes(m.id)).length;

  fill(parts.status,
    h("p", { class: "callout", role: "status" },
      format(T.answered_count, { count: step.answered.length, total })),
    step.answered.length ? h("ul", { class: "chips", "aria-label": T.answered_by.replace(/%\(names\)s/, "") },
      step.answered.map((id) => h("li", { text: ctx.name(id) }))) : null,
    !step.revealed ? h("p", { class: "hint", text: T.hidden_until_reveal }) : null,
    !step.revealed && ctx.isFacilitator() && !ctx.projector ? h("button", { type: "button", class: "button primary",
      onclick: () => ctx.send("reveal", { step: index }) }, T.reveal) : null);

  form(ctx, parts.form, JSON.stringify([index, mine.passed, mine.answer]), () => {
    const field = checkout
      ? h("input", { id: "answer", type: "text", maxlength: 40, autocomplete: "off" })
      : h("textarea", { id: "answer", rows: 3, maxlength: 1000 });
    field.value = mine.answer || "";
    return h("form", { class: "answer-form", onsubmit: (e) => {
      e.preventDefault();
      ctx.send("answer", { step: index, text: field.value });
    } },
    h("label", { for: "answer", text: checkout ? T.your_word : T.your_answer }),
    mine.passed ? h("p", { class: "hint", text: T.you_passed }) : null,
    field,
    h("div", { class: "button-row" },
      h("button", { type: "submit", class: "button primary" },
        mine.answer ? T.update_answer : T.save_answer),
      !mine.passed ? h("button", { type: "button", class: "button ghost",
        onclick: () => ctx.send("pass", { step: index }) }, T.pass) : null));
  });

  const answers = Object.entries(step.answers);
  fill(parts.answers, step.revealed ? [
    h("h3", { text: T.answers }),
    answers.length
      ? h("ul", { class: checkout ? "chips words" : "answers" }, answers.map(([id, text]) =>
        h("li", {}, h("strong", { text: ctx.name(Number(id)) }), " ",
          h("span", { class: "answer-text", text }))))
      : h("p", { text: T.no_answers }),
  ] : null);
}

/** Anonymous 1-5 scales: a form until answered, then only the team's aggregate. */
function renderScales(parts, ctx) {
  const { T, state } = ctx;
  const step = state.step;
  const index = state.room.step_index;
  const mine = ctx.me.steps[index];
  if (!step.scales.length) {
    fill(parts.scales);
    fill(parts.results);
    return;
  }
  const checkout = step.kind === "checkout";
  const results = step.scale_results;
  form(ctx, parts.scales, JSON.stringify([index, mine.rated, results.revealed]), () => {
    if (mine.rated) return h("p", { class: "hint", text: T.scales_sent });
    if (results.revealed) return h("p", { class: "hint", text: T.scales_closed });
    const groups = step.scales.map((scale) => h("fieldset", { class: "scale" },
      h("legend", { text: T[`scale_${scale}`] }),
      h("div", { class: "scale-options" }, [1, 2, 3, 4, 5].map((n) => h("label", { class: "scale-option" },
        h("input", { type: "radio", name: `scale-${scale}`, value: n, required: true }),
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
    h("button", { type: "submit", class: "button" }, T.send_scales));
  });

  const revealButton = step.kind === "checkin" && step.mode === "round" && !results.revealed
    && ctx.isFacilitator() && !ctx.projector;
  const waiting = results.revealed ? T.scales_too_few
    : results.enough ? T.scales_enough : T.scales_waiting;
  fill(parts.results, !results.ready ? [
    h("p", { class: "hint", text: waiting }),
    revealButton ? h("button", { type: "button", class: "button",
      onclick: () => ctx.send("reveal", { step: index }) }, T.reveal_scales) : null,
  ] : [
    h("h3", { text: format(T.scales_results, { count: results.count }) }),
    Object.entries(results.scales).map(([scale, data]) => {
      const most = Math.max(1, ...data.distribution);
      return h("figure", { class: "histogram" },
        h("figcaption", {}, h("strong", { text: T[`scale_${scale}`] }), " ",
          data.average !== null ? format(T.average, { value: data.average }) : ""),
        h("table", { class: "bars" },
          h("tbody", {}, data.distribution.map((count, i) => h("tr", {},
            h("th", { scope: "row", text: i + 1 }),
            h("td", {}, h("span", { class: "bar", style: { width: `${(count / most) * 100}%` } }),
              h("span", { class: "bar-count", text: count })))))));
    }),
  ]);
}
