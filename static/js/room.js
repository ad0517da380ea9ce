// The live room: one socket, full-state broadcasts ordered by seq, rendered with plain DOM.
import { fill, format, h, wireCopyButtons } from "./dom.js";
import { renderStep } from "./steps.js";

const root = document.getElementById("room");
const T = JSON.parse(document.getElementById("catalog").textContent);
const PROMPTS = JSON.parse(document.getElementById("prompts").textContent);
const $ = (id) => document.getElementById(id);

const ctx = {
  T,
  PROMPTS,
  state: null,
  me: null,
  memberId: Number(root.dataset.member),
  projector: root.dataset.view === "projector",
  clockOffset: 0,
  send,
  name: (id) => ctx.state?.members.find((m) => m.id === id)?.name ?? "?",
  isFacilitator: () => ctx.state?.room.facilitator_id === ctx.memberId,
};

wireCopyButtons(root);

// -- the connection ---------------------------------------------------------

// WebSocket-only deployments (no sticky sessions) must not start with long-polling.
const socket = io({ auth: { room: root.dataset.code }, transports: root.dataset.transports.split(",") });

socket.on("connect", () => setConnection("connected", T.connected));
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
  apply(data, { force: true });
});
socket.on("state", (data) => apply(data));
socket.on("me", (data) => {
  ctx.me = data;
  render();
});

function setConnection(state, text) {
  const el = $("connection");
  el.dataset.state = state;
  el.textContent = text;
}

/** Take a newer full state (a snapshot always wins), announce what changed, render. */
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

/** Send a command; retried with the same action id so that it applies once. */
function send(event, payload = {}) {
  const message = { ...payload, action_id: actionId() };
  return new Promise((resolve) => {
    const attempt = (left) => {
      socket.timeout(6000).emit(event, message, (err, ack) => {
        if (err) {
          if (left > 0) attempt(left - 1);
          else { toast(T.reconnecting); resolve({ ok: false }); }
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
  if (before.room.facilitator_id !== after.room.facilitator_id) {
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
  for (const id of a.answered) {
    if (!b.answered.includes(id) && id !== ctx.memberId) {
      announce(format(T.answer_from, { name: ctx.name(id) }));
    }
  }
}

// -- rendering ---------------------------------------------------------------

function render() {
  const s = ctx.state;
  if (!s || !ctx.me) return;
  root.dataset.status = s.room.status;
  renderStep($("stage"), ctx);
  renderPeople(s);
  renderAgenda(s);
  renderFacilitation(s);
  renderTimer();
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
  const facilitator = s.members.find((m) => m.id === s.room.facilitator_id);
  const canClaim = s.room.status !== "ended" && !ctx.isFacilitator() && !facilitator?.online
    && !ctx.projector;
  fill($("claim"), canClaim ? h("div", { class: "claim" },
    h("p", { class: "hint", text: T.claim_help }),
    h("button", { type: "button", class: "button", onclick: () => send("claim") }, T.claim),
  ) : null);
}

function renderAgenda(s) {
  fill($("agenda"), s.agenda.map((step, i) => {
    const current = s.room.status === "running" && i === s.room.step_index;
    const label = step.kind === "checkin"
      ? `${T.kind_checkin} (${T[`mode_${step.mode}`]})` : T.kind_checkout;
    return h("li", { class: current ? "current" : i < s.room.step_index ? "done" : "",
      "aria-current": current ? "step" : false }, label);
  }));
}

function renderFacilitation(s) {
  const panel = $("facilitation");
  const show = ctx.isFacilitator() && s.room.status !== "ended" && !ctx.projector;
  panel.hidden = !show;
  if (!show) return;
  const body = $("facilitation-body");
  const key = JSON.stringify([s.room.status, s.room.step_index, s.agenda.length, s.timer.running,
    s.members.map((m) => [m.id, m.name])]);
  if (body.dataset.key === key) return; // keep focus and the chosen values while nothing changed
  body.dataset.key = key;

  if (s.room.status === "lobby") {
    fill(body, h("button", { type: "button", class: "button primary wide", onclick: () => send("start") }, T.start));
  } else {
    const last = s.room.step_index >= s.agenda.length - 1;
    const minutes = h("select", { id: "timer-minutes", "aria-label": T.timer },
      [1, 2, 3, 5, 10, 15].map((n) => h("option", { value: n * 60, selected: n === 3 }, format(T.minutes, { n }))));
    fill(body,
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "button", disabled: s.room.step_index <= 0,
          onclick: () => send("previous") }, `← ${T.previous}`),
        h("button", { type: "button", class: "button primary", disabled: last,
          onclick: () => send("next") }, `${T.next} →`)),
      h("div", { class: "timer-controls" },
        h("span", { class: "label", text: T.timer }),
        s.timer.running
          ? [h("button", { type: "button", class: "button", onclick: () => send("timer_extend", { seconds: 60 }) }, T.timer_extend),
             h("button", { type: "button", class: "button", onclick: () => send("timer_stop") }, T.timer_stop)]
          : [minutes, h("button", { type: "button", class: "button",
              onclick: () => send("timer_start", { seconds: Number(minutes.value) }) }, T.timer_start)]),
    );
  }
  const others = s.members.filter((m) => m.id !== ctx.memberId);
  if (others.length) {
    const select = h("select", { id: "handover-to" },
      others.map((m) => h("option", { value: m.id }, m.name)));
    body.append(h("div", { class: "handover" },
      h("label", { for: "handover-to", text: T.handover_to }),
      select,
      h("button", { type: "button", class: "button wide",
        onclick: () => send("handover", { member: Number(select.value) }) }, T.handover)));
  }
  body.append(h("button", { type: "button", class: "button danger wide",
    onclick: () => { if (window.confirm(T.confirm_end)) send("end"); } }, T.end));
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
setInterval(renderTimer, 1000);
