"""The bench's output: a Markdown table, an SVG chart of p99 against participants, a profile."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

P99_TARGET_MS = 150.0
CPU_TARGET_RATIO = 2.0
TARGET_CONFIG, TARGET_SIZE = "retro-gevent-sqlite", 1000


def one_line(run: Any) -> str:
    if run.failure:
        return f"FAILED: {run.failure.splitlines()[0]}"
    return (
        f"p50/p95/p99/max {run.p50:.0f}/{run.p95:.0f}/{run.p99:.0f}/{run.max:.0f} ms, "
        f"{run.delivered} msgs, gaps {run.gaps}, errors {run.error_count}, "
        f"{run.cpu_us_per_message:.0f} µs/msg, server {run.server_cpu / run.measured_seconds:.0%}"
        f" + gen {run.generator_cpu / run.measured_seconds:.0%} of a core, "
        f"{run.rss_per_participant_kib:.0f} KiB/participant, {run.connect_rate:.0f} connects/s; "
        f"setup {run.setup_seconds:.0f} s, connect {run.connect_seconds:.0f} s, "
        f"total {run.total_seconds:.0f} s"
        if run.measured_seconds
        else "no measurement"
    )


def missed(target: Any, floor: Any | None) -> bool:
    """Return whether the target row misses any of the issue's targets."""
    if target.failure:
        return True
    ratio_missed = (
        floor is not None
        and not floor.failure
        and floor.cpu_us_per_message > 0
        and target.cpu_us_per_message / floor.cpu_us_per_message > CPU_TARGET_RATIO
    )
    return target.p99 > P99_TARGET_MS or target.gaps or target.error_count or ratio_missed


def _pct(seconds: float, window: float) -> str:
    return f"{seconds / window:.0%}" if window else "–"


def _row(run: Any) -> str:
    if run.failure:
        reason = escape(run.failure.splitlines()[0])[:160]
        return f"| {run.label} | {run.participants} | **did not run**: {reason} |" + " |" * 11
    window = run.measured_seconds
    errors = run.error_count
    return (
        f"| {run.label} | {run.participants} ({run.rooms}×50) "
        f"| {run.commands / run.window:.0f} → {run.fanouts / run.window:.0f} "
        f"| {run.p50:.0f} / {run.p95:.0f} / **{run.p99:.0f}** / {run.max:.0f} "
        f"| {run.ack_p50:.0f} / {run.ack_p99:.0f} "
        f"| {run.delivered:,} ({run.state_bytes / 1024:.1f} KiB/state) "
        f"| {run.gaps} | {errors} "
        f"| **{run.cpu_us_per_message:.0f}** | {_pct(run.server_cpu, window)} "
        f"| {run.rss_per_participant_kib:.0f} | {run.connect_rate:.0f} "
        f"| {_pct(run.generator_cpu, window)} |"
    )


def markdown(runs: list[Any], meta: dict[str, Any]) -> str:
    """Return the whole report for one `make bench`."""
    args = meta["args"]
    lines = [
        f"# Retro load benchmark, {meta['date']}",
        "",
        f"Machine: {meta['cpus']} cores, Python {meta['python']}, Node {meta['node']}. "
        f"`uptime` before: `{meta['uptime_before']}`; after: `{meta['uptime_after']}`. "
        f"The whole run took {meta['seconds']} s.",
        "",
        f"Each room has 50 participants over WebSocket only: a facilitator who starts the room,"
        f" reveals each simultaneous check-in at {0.7 * args['step_seconds']:.0f} s and moves"
        f" to the next step every {args['step_seconds']:.0f} s, and 49 members who each answer"
        f" every {args['think']:.0f} s on average (uniformly 0.5–1.5×). Every answer is a"
        f" committed change that is broadcast to the whole room. Measured over a"
        f" {args['window']:.0f} s window (+{args['drain']:.0f} s to drain) after everyone has"
        f" connected, with {args['workers']} generator processes on the same machine.",
        "",
        "| configuration | participants | commands/s sent → changes/s committed "
        "| fan-out ms p50 / p95 / **p99** / max | ack ms p50 / p99 "
        "| messages delivered | gaps | errors | server CPU µs/msg | server CPU "
        "| RSS KiB/participant | connects/s | generator CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row(r) for r in runs]
    busiest = max((r.busy_before for r in runs), default=0.0)
    if busiest > 0.25:
        lines += [
            "",
            f"**Warning**: other processes kept the machine up to {busiest:.0%} busy just before"
            " a run (see the notes): the servers and the generator competed with them for the"
            " two cores, so latencies and connect rates are worse than on a quiet machine.",
        ]
    lines += [
        "",
        "- **Commands/s sent → changes/s committed**: the load offered (answers, plus the"
        " facilitators' start, reveal and next) and the room changes the server committed in"
        " the window. A server that commits fewer than it is sent is saturated: its queue and"
        " its latencies grow with the length of the window.",
        "- **Fan-out latency**: from the server's commit (`committed_at` in the `state`) to the"
        " last member of the room receiving that `seq`, for every change committed in the"
        " window; the clients are on the same machine, so the clocks agree. **Ack**: from a"
        " client sending a command to its acknowledgement, which includes the wait for the"
        " commit; what the person acting waits.",
        "- **Messages delivered**: every `state`, `snapshot`, `me` and acknowledgement the"
        " clients received in the window. **Server CPU µs/msg**: user + system CPU of the server"
        " process(es) over the window (from /proc/<pid>/stat) divided by that count. **Server"
        " CPU**: the same as a share of one core.",
        "- **Gaps**: seqs of a room, from a client's snapshot on, that the client never received"
        " (must be 0). **Errors**: failed connects, dropped sockets, missing or unexpected"
        " acknowledgements, refused commands other than `wrong_step` (must be 0).",
        "- **RSS KiB/participant**: VmRSS of the server process(es) with everyone connected minus"
        " the idle VmRSS after setup, divided by the participants.",
        "- **Connects/s**: participants connected (socket open and snapshot received) per second,"
        " 25 at a time per generator process; every connect is a committed change broadcast to"
        " the room.",
    ]
    lines += ["", *_comparison(runs), "", *_notes(runs)]
    target = _find(runs, TARGET_CONFIG, TARGET_SIZE)
    if target is not None and target.profile:
        lines += ["", "## Profile of the target run (py-spy)", "", target.profile]
    lines += [
        "",
        "![p99 fan-out latency against participants](latency.svg)",
        "",
        "Reproduce with `make bench` (or `.venv/bin/python -m bench.run --help`).",
    ]
    return "\n".join(lines) + "\n"


def _find(runs: list[Any], config: str, size: int | None = None) -> Any | None:
    for run in runs:
        if (
            run.config == config
            and (size is None or run.participants == size)
            and run.primary
            and not run.failure
        ):
            return run
    return None


def _comparison(runs: list[Any]) -> list[str]:
    target = _find(runs, TARGET_CONFIG, TARGET_SIZE)
    if target is None:
        return ["## Targets", "", "The target configuration did not run."]
    floor = _find(runs, "bare-python-socketio")
    node = _find(runs, "node-socketio")
    lines = [
        "## Targets (1 gevent process, SQLite, 1,000 participants in 20 rooms of 50)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        f"| p99 fan-out ≤ {P99_TARGET_MS:.0f} ms | {target.p99:.0f} ms "
        f"| {'yes' if target.p99 <= P99_TARGET_MS else '**no**'} |",
        f"| 0 sequence gaps | {target.gaps} | {'yes' if target.gaps == 0 else '**no**'} |",
        f"| 0 errors | {target.error_count} | {'yes' if target.error_count == 0 else '**no**'} |",
    ]
    if floor is not None and floor.cpu_us_per_message:
        ratio = target.cpu_us_per_message / floor.cpu_us_per_message
        met = "yes" if ratio <= CPU_TARGET_RATIO else "**no**"
        lines.append(
            f"| server CPU/message ≤ {CPU_TARGET_RATIO:.0f}× the bare python-socketio floor "
            f"| {ratio:.1f}× ({target.cpu_us_per_message:.0f} vs "
            f"{floor.cpu_us_per_message:.0f} µs) | {met} |"
        )
    lines += ["", "Ratios of Retro (gevent, SQLite, 1,000 participants) to the baselines:", ""]
    lines += ["| baseline | CPU µs/msg | ratio | p99 ms | ratio | RSS KiB/participant | ratio |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for base in (floor, node):
        if base is None:
            continue
        lines.append(
            f"| {base.label} | {base.cpu_us_per_message:.0f} "
            f"| {_ratio(target.cpu_us_per_message, base.cpu_us_per_message)} "
            f"| {base.p99:.0f} | {_ratio(target.p99, base.p99)} "
            f"| {base.rss_per_participant_kib:.0f} "
            f"| {_ratio(target.rss_per_participant_kib, base.rss_per_participant_kib)} |"
        )
    return lines


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.1f}×" if theirs > 0 else "–"


def _notes(runs: list[Any]) -> list[str]:
    lines = ["## Notes per run", ""]
    for run in runs:
        if run.failure:
            lines.append(f"- **{run.label}, {run.participants}**: did not run.")
            lines += ["", "  ```", *("  " + x for x in run.failure.splitlines()[-25:]), "  ```"]
            continue
        bits = [
            f"machine {run.busy_before:.0%} busy just before; load average"
            f" {run.load_before[0]:.2f} before, {run.load_after[0]:.2f} after",
            f"{run.fanouts} changes committed in the window",
            f"server CPU with everyone connected and idle: {run.idle_cpu:.0%} of a core",
        ]
        if run.refused:
            bits.append(
                "refused: " + ", ".join(f"{k} ×{v}" for k, v in sorted(run.refused.items()))
            )
        if run.errors:
            bits.append("errors: " + ", ".join(f"{k} ×{v}" for k, v in sorted(run.errors.items())))
        if run.incomplete:
            bits.append(f"{run.incomplete} changes did not reach every member")
        if run.out_of_order:
            bits.append(f"{run.out_of_order} states arrived after a newer one (allowed)")
        if run.duplicates:
            bits.append(f"{run.duplicates} states arrived twice")
        if run.aux_cpu:
            bits.append(
                f"PostgreSQL backends + Redis used another {run.aux_cpu / run.measured_seconds:.0%}"
                f" of a core ({run.aux_cpu / run.delivered * 1e6:.0f} µs/msg), not counted above"
            )
        if run.connected < run.participants:
            bits.append(f"only {run.connected} of {run.participants} connected")
        lines.append(f"- **{run.label}, {run.participants}**: " + "; ".join(bits) + ".")
        if run.server_errors:
            lines += ["", "  The server logged:", "", "  ```"]
            lines += ["  " + x for x in run.server_errors]
            lines += ["  ```", ""]
    return lines


# -- the chart -----------------------------------------------------------------------------

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]


def svg_chart(runs: list[Any]) -> str:
    """Return an SVG line chart of p99 fan-out latency (log scale) against participants."""
    ok = [r for r in runs if not r.failure and r.fanouts]
    width, height, left, right, top, bottom = 900, 430, 70, 390, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    xmax = max([r.participants for r in ok] + [1000]) * 1.1
    values = [max(r.p99, 1.0) for r in ok] + [P99_TARGET_MS]
    lo = 10 ** int(_log10(min(values)))
    hi = 10 ** (int(_log10(max(values))) + 1)

    def x(v: float) -> float:
        return left + v / xmax * plot_w

    def y(v: float) -> float:
        v = max(v, lo)
        return top + plot_h - (_log10(v) - _log10(lo)) / (_log10(hi) - _log10(lo)) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">'
        "p99 fan-out latency (commit → last member) against participants</text>",
    ]
    decade = lo
    while decade <= hi:
        for m in (1, 2, 5):
            v = decade * m
            if lo <= v <= hi:
                out.append(
                    f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                    f'stroke="#ddd"/>'
                )
                out.append(
                    f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>'
                )
        decade *= 10
    step = 200 if xmax <= 1200 else 500
    for v in range(0, int(xmax) + 1, step):
        out.append(
            f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>'
        )
        out.append(f'<text x="{x(v):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{v}</text>')
    out += [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        f'stroke="#333"/>',
        f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">'
        "participants (rooms of 50)</text>",
        f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + plot_h / 2})">p99 ms (log scale)</text>',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(P99_TARGET_MS):.1f}" '
        f'y2="{y(P99_TARGET_MS):.1f}" stroke="#000" stroke-dasharray="6 4"/>',
        f'<text x="{left + 4}" y="{y(P99_TARGET_MS) - 4:.1f}">target {P99_TARGET_MS:.0f} ms</text>',
    ]
    series: dict[str, list[Any]] = {}
    for run in ok:
        series.setdefault(run.label, []).append(run)
    for i, (label, points) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        points.sort(key=lambda r: r.participants)
        coords = " ".join(f"{x(r.participants):.1f},{y(max(r.p99, 1.0)):.1f}" for r in points)
        if len(points) > 1:
            out.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for r in points:
            out.append(
                f'<circle cx="{x(r.participants):.1f}" cy="{y(max(r.p99, 1.0)):.1f}" r="4" '
                f'fill="{colour}"><title>{escape(label)}: {r.participants} participants, '
                f"p99 {r.p99:.0f} ms</title></circle>"
            )
        ly = top + 10 + i * 20
        out.append(
            f'<line x1="{width - right + 15}" x2="{width - right + 35}" y1="{ly}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        out.append(f'<text x="{width - right + 40}" y="{ly + 4}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _log10(v: float) -> float:
    import math

    return math.log10(v)


# -- the profile ---------------------------------------------------------------------------

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")


def _frame(raw: str) -> str:
    match = FRAME.match(raw.strip())
    if not match:
        return raw.strip()
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def _package(frame: str) -> str:
    """Return the top-level package of a frame's file ("sqlalchemy", "retro", "json", ...)."""
    match = re.search(r"\((?P<file>[^()]*)\)$", frame)
    path = match["file"] if match else frame
    return path.split("/", 1)[0] if "/" in path else path.rsplit(".", 1)[0]


def profile_summary(raw: str, top: int = 15) -> str:
    """Return the top functions by own time and by time including callees, from py-spy raw."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    packages: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        package = _package(frames[-1])
        packages[package] = packages.get(package, 0) + n
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + n
    if not total:
        return "(no samples)"

    def table(counts: dict[str, int], title: str, rows: int = top) -> list[str]:
        ordered = sorted(counts.items(), key=lambda kv: -kv[1])[:rows]
        return [
            f"| {title} | share of samples |",
            "|---|---|",
            *(f"| `{name.replace('|', '/')}` | {n / total:.1%} |" for name, n in ordered),
        ]

    app = {k: v for k, v in inclusive.items() if "retro/" in k or "flask_socketio" in k}
    return "\n".join(
        [
            f"{total} samples at 100 Hz of the server's busy time; flame graph in"
            " [profile.svg](profile.svg).",
            "",
            *table(packages, "own time by package", 10),
            "",
            *table(own, "own time by function (the leaf of the stack)"),
            "",
            *table(app, "Retro and Flask-SocketIO functions, including their callees"),
        ]
    )


# -- files -------------------------------------------------------------------------------------


def write(
    runs: list[Any], meta: dict[str, Any], text: str, raw: list[dict[str, Any]], folder: Path
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    day = meta["date"].split()[0]
    (folder / f"{day}.md").write_text(text.replace("(latency.svg)", f"(latency-{day}.svg)"))
    (folder / "latest.md").write_text(text)
    chart = svg_chart(runs)
    (folder / f"latency-{day}.svg").write_text(chart)
    (folder / "latency.svg").write_text(chart)
    (folder / f"{day}.json").write_text(json.dumps({"meta": meta, "runs": raw}, indent=1) + "\n")
    print(f"wrote {folder / f'{day}.md'} and latest.md, latency.svg", flush=True)
