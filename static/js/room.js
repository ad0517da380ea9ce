// The live room: one socket, full-state broadcasts ordered by seq, rendered with plain DOM.
import { fill, format, h, keyed, wireCopyButtons } from "./dom.js";
import { renderStep } from "./steps.js";

const root = document.getElementById("room");
const T = JSON.parse(document.getElementById("catalog").textContent);
const PROMPTS = JSON.parse(document.getElementById("prompts").textContent);
const $ = (id) => document.getElementById(id);
// The projector view (the meeting-room screen) follows the room as nobody in particular.
const projector = root.dataset.view === "projector";

const ctx = {
  T,
  PROMPTS,
  state: null,
  me: null,
  memberId: projector ? null : Number(root.dataset.member),
  projector,
  clockOffset: 0,
  focusRequest: null, // a data-focus key a render asks to focus (the answer box on my turn)
  send,
  name: (id) => ctx.state?.members.find((m) => m.id === id)?.name ?? "?",
  isFacilitator: () => ctx.memberId !== null && ctx.state?.room.facilitator_id === ctx.memberId,
};

wireCopyButtons(root);

// -- the connection ---------------------------------------------------------

// WebSocket-only deployments (no sticky sessions) must not start with long-polling.
// A projector socket is a read-only viewer: not online, not in a talking-stick order.
const auth = projector ? { room: root.dataset.code, view: "projector" } : { room: root.dataset.code };
const socket = io({ auth, transports: root.dataset.transports.split(",") });

// The newest seq a `state` brought on this connection: with several server processes a
// change can reach the socket just before its snapshot, which is then already older.
let newestOnConnection = -1;
socket.on("connect", () => {
  newestOnConnection = -1;
  setConnection("connected", T.connected);
});
socket.on("disconnect", () => setConnection("lost", T.reconnecting));
socket.io.on("reconnect_attempt", () => setConnection("lost", T.reconnecting));
socket.on("connect_error", (err) => {
  if (err?.data?.code === "unauthorized") {
    setConnection("refused", err.data.message || T.refused);
    socket.disconnect();
  } else {
    setConnection("lost", T.reconnecting);
  }
});
socket.on("snapshot", (data) => {
  ctx.me = data.me;
  if (data.seq < newestOnConnection) render();
  else apply(data, { force: true });
});
socket.on("state", (data) => {
  newestOnConnection = Math.max(newestOnConnection, data.seq);
  apply(data);
});
socket.on("me", (data) => {
  ctx.me = data;
  render();
});

function setConnection(state, text) {
  const el = $("connection");
  el.dataset.state = state;
  el.textContent = text;
}

/** Take a newer full state (a snapshot wins over older connections' states), announce, render. */
function apply(data, { force = false } = {}) {
  if (!force && ctx.state && data.seq <= ctx.state.seq) return;
  const before = ctx.state;
  ctx.state = data;
  ctx.clockOffset = data.server_time * 1000 - Date.now();
  if (before) announceChanges(before, data);
  render();
}

let counter = 0;
function actionId() {
  counter += 1;
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}-${counter}`;
}

/** Start a fresh connection, which brings a fresh snapshot. */
function reconnect() {
  socket.disconnect();
  socket.connect();
}

/**
 * Send a command; retried with the same action id so that it applies once.
 *
 * "unauthorized" means the server no longer knows this socket (its record expired):
 * reconnect, then send the same command once more on the new connection.
 */
function send(event, payload = {}) {
  const message = { ...payload, action_id: actionId() };
  return new Promise((resolve) => {
    let renewed = false;
    const attempt = (left) => {
      socket.timeout(6000).emit(event, message, (err, ack) => {
        if (err) {
          if (left > 0) attempt(left - 1);
          else { toast(T.reconnecting); resolve({ ok: false }); }
          return;
        }
        if (!ack.ok && ack.error?.code === "unauthorized" && !renewed) {
          renewed = true;
          renewThenRetry(() => attempt(0), () => {
            toast(T.reconnecting);
            resolve(ack);
          });
          return;
        }
        if (!ack.ok) toast(ack.error.message);
        if (ack.me) { ctx.me = ack.me; render(); }
        resolve(ack);
      });
    };
    attempt(2);
  });
}

/** Reconnect; call `retry` once the new snapshot is in, or `fail` if none comes in time. */
function renewThenRetry(retry, fail) {
  const timer = setTimeout(() => {
    socket.off("snapshot", onSnapshot);
    fail();
  }, 15000);
  function onSnapshot() {
    clearTimeout(timer);
    retry();
  }
  socket.once("snapshot", onSnapshot);
  reconnect();
}

// -- announcements and messages -----------------------------------------------

function announce(text) {
  const line = h("p", { text });
  $("announcer").append(line);
  setTimeout(() => line.remove(), 8000);
}

let toastTimer = null;
function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}

function announceChanges(before, after) {
  const wasOnline = new Set(before.members.filter((m) => m.online).map((m) => m.id));
  for (const m of after.members) {
    if (m.id === ctx.memberId) continue;
    if (m.online && !wasOnline.has(m.id)) announce(format(T.joined, { name: m.name }));
    if (!m.online && wasOnline.has(m.id)) announce(format(T.went_offline, { name: m.name }));
  }
  if (before.room.facilitator_id !== after.room.facilitator_id && after.room.facilitator_id !== null) {
    announce(after.room.facilitator_id === ctx.memberId
      ? T.you_facilitate
      : format(T.now_facilitating, { name: ctx.name(after.room.facilitator_id) }));
  }
  if (before.room.status !== after.room.status && after.room.status === "ended") {
    announce(T.ended_title);
  }
  if (before.room.step_index !== after.room.step_index && after.step) {
    announce(format(T.step_changed, {
      n: after.room.step_index + 1, kind: T[`kind_${after.step.kind}`],
    }));
    return;
  }
  const b = before.step;
  const a = after.step;
  if (!a || !b) return;
  if (a.speaker !== b.speaker) {
    announce(a.speaker === null ? T.round_done
      : a.speaker === ctx.memberId ? T.your_turn : format(T.turn_of, { name: ctx.name(a.speaker) }));
  }
  if (a.revealed && !b.revealed) announce(T.revealed);
  if (a.kind === "checkin" && a.mode === "round") {
    // In a round everyone hears the speaker: read out what they shared, as it appears.
    for (const [id, text] of Object.entries(a.answers)) {
      if (Number(id) !== ctx.memberId && text && b.answers?.[id] !== text) {
        announce(format(T.answer_said, { name: ctx.name(Number(id)), text }));
      }
    }
    return;
  }
  // Written answers stay private until the reveal: only say that someone answered.
  // The charter steps have no answers, and in an agreements check `answered` is only a
  // count (its answers are anonymous): those steps announce their own changes.
  if (!Array.isArray(a.answered) || !Array.isArray(b.answered)) return;
  for (const id of a.answered) {
    if (!b.answered.includes(id) && id !== ctx.memberId) {
      announce(format(T.answer_from, { name: ctx.name(id) }));
    }
  }
}

// -- rendering ---------------------------------------------------------------

let shownPlace = null; // "status:step" of the last render, to notice a new step

function render() {
  const s = ctx.state;
  if (!s || !ctx.me) return;
  const place = `${s.room.status}:${s.room.step_index}`;
  const moved = shownPlace !== null && shownPlace !== place;
  shownPlace = place;
  const held = focused();
  ctx.focusRequest = null;
  root.dataset.status = s.room.status;
  renderStep($("stage"), ctx);
  renderPeople(s);
  renderClaim();
  renderAgenda(s);
  renderFacilitation(s);
  renderBar(s);
  renderTimer();
  settleFocus(held, moved);
}

// -- focus: live updates never throw it away ---------------------------------------------

/** What has focus in the room before a render: the element, its key and fallbacks. */
function focused() {
  const el = document.activeElement;
  if (!el || el === document.body || !root.contains(el)) return null;
  return {
    el,
    keys: [el.dataset.focus, ...(el.dataset.focusFallback || "").split(" ")].filter(Boolean),
    driving: $("facilitation").contains(el),
  };
}

/**
 * Put focus back where the user expects it after a render.
 *
 * A new step (or the room starting or ending) moves focus to the stage heading, so that
 * keyboard and screen-reader users land on the new content; only a facilitator driving
 * from the facilitation panel stays on their button (the step change is announced).
 * Otherwise a control that a rebuild replaced is found again by its data-focus key.
 */
function settleFocus(held, moved) {
  if (moved && !ctx.projector && !held?.driving) {
    focusKey("stage-title");
    return;
  }
  if (ctx.focusRequest && !moved && focusKey(ctx.focusRequest)) return;
  if (!held || (held.el.isConnected && document.activeElement === held.el)) return;
  for (const key of [...held.keys, "stage-title"]) {
    if (focusKey(key)) return;
  }
}

/** Focus the visible, enabled element with this data-focus key; return whether it worked. */
function focusKey(key) {
  const el = root.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  if (!el || el.disabled || !el.getClientRects().length) return false;
  el.focus();
  if (el.matches("textarea, input[type=text]")) el.setSelectionRange(el.value.length, el.value.length);
  return document.activeElement === el;
}

function renderPeople(s) {
  const online = s.members.filter((m) => m.online).length;
  $("people-count").textContent = `${online}/${s.members.length}`;
  fill($("people"), s.members.map((m) => h("li", { class: m.online ? "online" : "offline" },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "person-name", text: m.name }),
    m.id === ctx.memberId && !ctx.projector ? h("span", { class: "tag", text: T.you }) : null,
    m.id === s.room.facilitator_id ? h("span", { class: "tag fac", text: T.facilitator }) : null,
    h("span", { class: "visually-hidden", text: `, ${m.online ? T.online : T.offline}` }),
  )));
}

/**
 * Offer the take-over once the facilitator has been away longer than the server's grace
 * period: from `claimable_at` (epoch seconds, null while they are here) on the server's
 * clock. Re-checked every second. A server without the field: as soon as they are offline.
 */
function renderClaim() {
  const s = ctx.state;
  if (!s) return;
  const at = s.room.claimable_at;
  const away = at === undefined
    ? !s.members.find((m) => m.id === s.room.facilitator_id)?.online
    : at !== null && Date.now() + ctx.clockOffset >= at * 1000;
  const canClaim = away && s.room.status !== "ended" && !ctx.isFacilitator() && !ctx.projector;
  keyed($("claim"), String(canClaim), () => (canClaim ? h("div", { class: "claim" },
    h("p", { class: "hint", text: T.claim_help }),
    h("button", { type: "button", class: "button", "data-focus": "claim",
      "data-focus-fallback": "facilitation-title", onclick: () => send("claim") }, T.claim),
  ) : null));
}

function renderAgenda(s) {
  fill($("agenda"), s.agenda.map((step, i) => {
    const current = s.room.status === "running" && i === s.room.step_index;
    const label = step.kind === "checkin"
      ? `${T.kind_checkin} (${T[`mode_${step.mode}`]})` : T[`kind_${step.kind}`];
    return h("li", { class: current ? "current" : i < s.room.step_index ? "done" : "",
      "aria-current": current ? "step" : false }, label);
  }));
}

function renderFacilitation(s) {
  const panel = $("facilitation");
  const show = ctx.isFacilitator() && s.room.status !== "ended" && !ctx.projector;
  panel.hidden = !show;
  if (!show) {
    delete $("facilitation-body").dataset.key;
    return;
  }
  const body = $("facilitation-body");
  // Rebuilt only when its shape changes; the chosen values are carried over, and
  // room.js puts focus back on the control with the same data-focus key.
  const chosen = { minutes: $("timer-minutes")?.value, handover: $("handover-to")?.value };
  const key = JSON.stringify([s.room.status, s.room.step_index, s.agenda.length, s.timer.running,
    s.members.map((m) => [m.id, m.name])]);
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  const button = (focus, attrs, label) => h("button", { type: "button", class: "button",
    "data-focus": focus, ...attrs }, label);

  if (s.room.status === "lobby") {
    fill(body, button("start", { class: "button primary wide", onclick: () => send("start") }, T.start));
  } else {
    const last = s.room.step_index >= s.agenda.length - 1;
    const minutes = h("select", { id: "timer-minutes", "aria-label": T.timer, "data-focus": "timer-minutes" },
      [1, 2, 3, 5, 10, 15].map((n) => h("option", { value: n * 60, selected: n === 3 }, format(T.minutes, { n }))));
    keep(minutes, chosen.minutes);
    fill(body,
      h("div", { class: "button-row" },
        button("previous", { "data-focus-fallback": "next", disabled: s.room.step_index <= 0,
          onclick: () => send("previous") }, `← ${T.previous}`),
        button("next", { class: "button primary", "data-focus-fallback": "previous", disabled: last,
          onclick: () => send("next") }, `${T.next} →`)),
      h("div", { class: "timer-controls" },
        h("span", { class: "label", text: T.timer }),
        s.timer.running
          ? [button("timer-extend", { "data-focus-fallback": "timer-start",
              onclick: () => send("timer_extend", { seconds: 60 }) }, T.timer_extend),
             button("timer-stop", { "data-focus-fallback": "timer-start", onclick: () => send("timer_stop") },
               T.timer_stop)]
          : [minutes, button("timer-start", { "data-focus-fallback": "timer-stop",
              onclick: () => send("timer_start", { seconds: Number(minutes.value) }) }, T.timer_start)]),
    );
  }
  const others = s.members.filter((m) => m.id !== ctx.memberId);
  if (others.length) {
    const select = h("select", { id: "handover-to", "data-focus": "handover-to" },
      others.map((m) => h("option", { value: m.id }, m.name)));
    keep(select, chosen.handover);
    body.append(h("div", { class: "handover" },
      h("label", { for: "handover-to", text: T.handover_to }),
      select,
      button("handover", { class: "button wide",
        onclick: () => send("handover", { member: Number(select.value) }) }, T.handover)));
  }
  body.append(button("end", { class: "button danger wide",
    onclick: () => {
      // Ending keeps an unpublished charter draft publishable, but say it is not published.
      const question = ctx.state.charter?.dirty ? T.confirm_end_unpublished : T.confirm_end;
      if (window.confirm(question)) send("end");
    } }, T.end));
}

/** Select `value` again after a rebuild, if it is still one of the options. */
function keep(select, value) {
  if (value !== undefined && [...select.options].some((o) => o.value === value)) select.value = value;
}

/**
 * On a phone the facilitation panel is far below the stage: a compact bar sticks to the
 * bottom of the screen with the previous and next step, and a link to the whole panel.
 * Hidden by CSS on wide screens.
 */
function renderBar(s) {
  const bar = $("facilitation-bar");
  if (!bar) return;
  const show = ctx.isFacilitator() && s.room.status === "running" && !ctx.projector;
  bar.hidden = !show;
  keyed(bar, JSON.stringify(show ? [s.room.step_index, s.agenda.length] : null), () => {
    if (!show) return null;
    const last = s.room.step_index >= s.agenda.length - 1;
    return [
      h("div", { class: "fac-bar-info" },
        h("span", { class: "fac-bar-step", text: format(T.step_of, {
          n: s.room.step_index + 1, total: s.agenda.length }) }),
        h("a", { href: "#facilitation", onclick: (e) => {
          e.preventDefault();
          focusKey("facilitation-title");
        } }, T.more_controls)),
      h("button", { type: "button", class: "button", "data-focus": "bar-previous", "aria-label": T.previous,
        title: T.previous, disabled: s.room.step_index <= 0, onclick: () => send("previous") }, "←"),
      h("button", { type: "button", class: "button primary", "data-focus": "bar-next",
        disabled: last, onclick: () => send("next") }, `${T.next} →`),
    ];
  });
}

// -- the timer ticks locally from the stored deadline ----------------------------------

let timeUpAnnounced = null;
function renderTimer() {
  const t = ctx.state?.timer;
  const box = $("timer");
  if (!t || !t.running || ctx.state.room.status !== "running") {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const left = Math.max(0, Math.round((t.ends_at * 1000 - (Date.now() + ctx.clockOffset)) / 1000));
  const mm = Math.floor(left / 60);
  const ss = String(left % 60).padStart(2, "0");
  $("timer-value").textContent = left > 0 ? `${mm}:${ss}` : T.timer_up;
  box.classList.toggle("expired", left === 0);
  $("timer-bar").style.width = `${t.duration ? Math.min(100, (left / t.duration) * 100) : 0}%`;
  if (left === 0 && timeUpAnnounced !== t.ends_at) {
    timeUpAnnounced = t.ends_at;
    announce(T.timer_up);
  }
}
setInterval(() => {
  renderTimer();
  renderClaim();
}, 1000);
