// The Node baseline: a socket.io server that only broadcasts, like bench/baseline_socketio.py.
// Same events, same view shape and size, everything in memory.
//
//     node bench/node/server.js PORT
"use strict";

const { Server } = require("socket.io");

const STEPS = 12;
const PROMPT = "How are you arriving today?";
const port = Number(process.argv[2]);

// Wall-clock seconds with sub-millisecond precision, comparable with Python's time.time().
const now = () => (performance.timeOrigin + performance.now()) / 1000;

const io = new Server(port, {
  transports: ["websocket"],
  serveClient: false,
  pingInterval: 20000,
  pingTimeout: 20000,
  maxHttpBufferSize: 65536,
});

const rooms = new Map();
let nextMember = 0;

function newRoom(code) {
  return {
    code,
    seq: 0,
    status: "lobby",
    stepIndex: 0,
    members: new Map(),
    online: new Set(),
    answers: Array.from({ length: STEPS }, () => new Map()),
    revealed: Array(STEPS).fill(false),
    facilitator: null,
  };
}

function view(room) {
  const t = now();
  const answers = room.answers[room.stepIndex];
  const revealed = room.revealed[room.stepIndex];
  return {
    seq: room.seq,
    server_time: t,
    room: {
      code: room.code,
      title: "",
      team: "Bench team",
      status: room.status,
      step_index: room.stepIndex,
      facilitator_id: room.facilitator,
      claimable_at: null,
    },
    members: [...room.members].map(([id, name]) => ({ id, name, online: room.online.has(id) })),
    agenda: Array.from({ length: STEPS }, () => ({
      kind: "checkin", mode: "simultaneous", prompt: PROMPT, prompt_id: null,
    })),
    step: {
      kind: "checkin",
      prompt: PROMPT,
      prompt_id: null,
      mode: "simultaneous",
      started: room.status !== "lobby",
      order: [],
      speaker: null,
      heard: [],
      passed: [],
      waiting: [],
      answered: [...answers.keys()].sort((a, b) => a - b),
      answers: revealed ? Object.fromEntries([...answers].map(([m, text]) => [String(m), text])) : {},
      revealed,
      scales: [],
      scale_results: null,
    },
    timer: { running: false, remaining: null, deadline: null },
    charter: null,
    committed_at: t,
  };
}

function privateView(room, member) {
  return {
    member_id: member,
    is_facilitator: room.facilitator === member,
    steps: room.answers.map((a) => ({ answer: a.get(member) ?? null, passed: false })),
  };
}

io.on("connection", (socket) => {
  const code = socket.handshake.auth.room;
  if (!rooms.has(code)) rooms.set(code, newRoom(code));
  const room = rooms.get(code);
  const member = ++nextMember;
  room.members.set(member, `Member ${member}`);
  room.online.add(member);
  if (room.facilitator === null) room.facilitator = member;
  socket.join(code);
  room.seq += 1;
  const v = view(room);
  socket.emit("snapshot", { ...v, me: privateView(room, member) });
  socket.to(code).emit("state", v);

  for (const name of ["start", "next", "reveal", "answer"]) {
    socket.on(name, (data, ack) => {
      if (name === "start") room.status = "running";
      else if (name === "next") room.stepIndex = Math.min(room.stepIndex + 1, STEPS - 1);
      else if (name === "reveal") room.revealed[room.stepIndex] = true;
      else if (name === "answer") room.answers[room.stepIndex].set(member, data.text);
      room.seq += 1;
      io.to(code).emit("state", view(room));
      const me = privateView(room, member);
      socket.emit("me", me);
      if (typeof ack === "function") ack({ ok: true, seq: room.seq, duplicate: false, me });
    });
  }

  socket.on("disconnect", () => {
    room.online.delete(member);
    room.seq += 1;
    io.to(code).emit("state", view(room));
  });
});

console.log(`node socket.io ${require("socket.io/package.json").version} on ${port}`);
