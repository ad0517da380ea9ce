"""Agreement drafting: keep, amend or retire the charter's agreements, add new ones, by consent."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from retro.rituals.base import (
    Actor,
    RitualError,
    charter_agreements,
    clean_text,
    require_facilitator,
)
from retro.rituals.consent import (
    ConsentSteps,
    ConsentVote,
    public_round,
    require_open,
    voters_of,
)

PROPOSAL_KINDS = ("amend", "retire", "add")
STATUSES = ("open", "voting", "accepted", "objected", "withdrawn", "superseded")
# Proposals that may still be voted on, amended or withdrawn.
UNDECIDED = ("open", "objected")
# Proposals that no longer take part: they do not count towards MAX_PROPOSALS.
SET_ASIDE = ("withdrawn", "superseded")
# The charter's AGREEMENT_LIMIT (retro.charter.content imports the rituals, so not from there).
AGREEMENT_LIMIT = 500
MAX_PROPOSALS = 60
# Withdrawn and superseded proposals stay listed; this bounds the list all the same.
MAX_PROPOSALS_KEPT = 4 * MAX_PROPOSALS
DATE_LENGTH = len("YYYY-MM-DD")
# Why an agreements check flags an agreement for drafting, in the order they are listed.
FLAG_REASONS = ("low", "review_due")


REVIEW_YEARS = (2000, 2100)


def review_date_value(value: Any) -> str | None:
    """Return a review date "YYYY-MM-DD", None for "", refusing anything else."""
    if value == "":
        return None
    if not isinstance(value, str) or len(value) != DATE_LENGTH:
        raise RitualError("invalid_date")
    try:
        parsed = date.fromisoformat(value).isoformat()
    except ValueError:
        raise RitualError("invalid_date") from None
    # fromisoformat also reads ten-character forms such as "2027-W01-1" or "20270101T0".
    if parsed != value:
        raise RitualError("invalid_date")
    # The same years as the charter accepts (retro.charter.content imports this module).
    if not REVIEW_YEARS[0] <= int(value[:4]) <= REVIEW_YEARS[1]:
        raise RitualError("date_out_of_range", low=REVIEW_YEARS[0], high=REVIEW_YEARS[1])
    return parsed


def known_flags(flags: Any, agreement_ids: Sequence[str]) -> dict[str, list[str]]:
    """Return {agreement id: [reasons]} for these agreements and the known reasons only.

    Anything else (unknown ids, unknown reasons, malformed values) is dropped, as are
    agreements left without a reason; reasons are listed once each, in FLAG_REASONS order.
    """
    if not isinstance(flags, Mapping):
        return {}
    kept: dict[str, list[str]] = {}
    for agreement_id in agreement_ids:
        reasons = flags.get(agreement_id)
        if not isinstance(reasons, list | tuple):
            continue
        known = [r for r in FLAG_REASONS if r in reasons]
        if known:
            kept[agreement_id] = known
    return kept


def agreement_text(value: Any) -> str:
    """Return a one-line agreement text within the limit."""
    text = clean_text(value, AGREEMENT_LIMIT)
    # Agreements are list items rendered inline; a line break would not survive.
    if len(text.splitlines()) > 1:
        raise RitualError("one_line")
    return text


@dataclass
class Proposal:
    """A proposed change to the agreements and the consent rounds it went through.

    `review_date` None means none for an added agreement and "unchanged" for an amendment.
    """

    id: str
    kind: str
    target: str | None
    text: str
    review_date: str | None
    author: int
    status: str = "open"
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "text": self.text,
            "review_date": self.review_date,
            "author": self.author,
            "status": self.status,
            "rounds": copy.deepcopy(self.rounds),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Proposal:
        """Rebuild from `to_state` output."""
        return cls(
            id=data["id"],
            kind=data["kind"],
            target=data.get("target"),
            text=data.get("text", ""),
            review_date=data.get("review_date"),
            author=int(data["author"]),
            status=data.get("status", "open"),
            rounds=copy.deepcopy(data.get("rounds", [])),
        )


@dataclass
class AgreementDrafting(ConsentSteps):
    """State of the agreement-drafting step.

    The charter's agreements as they were when the step opened; proposals to amend,
    retire or add, each decided by its own consent vote, one vote at a time. Accepted
    proposals, in the order they were accepted, are the room's draft.

    Once an agreement is amended or retired (or kept), the other proposals still open on
    it are "superseded": the room decided about it. cancel_consent (or the room leaving
    the step: `suspend`) discards an open vote without a round.
    """

    anonymous: bool = False
    started: bool = False
    loaded: bool = False
    agreements: list[dict[str, Any]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    ballot: ConsentVote | None = None
    voting: str | None = None
    accepted: list[str] = field(default_factory=list)
    flags: dict[str, list[str]] = field(default_factory=dict)

    kind = "agreements"

    @classmethod
    def create(cls, *, anonymous: Any = False) -> AgreementDrafting:
        """Return a new, not yet started drafting step with validated settings."""
        if not isinstance(anonymous, bool):
            raise RitualError("invalid_field", field="anonymous")
        return cls(anonymous=anonymous)

    # -- lifecycle ---------------------------------------------------------

    def begin(self, member_ids: Sequence[int], rng: Any) -> None:
        """Open the step; a second call changes nothing."""
        self.started = True

    def join(self, member_id: int) -> None:
        """Nothing to do: a late member proposes and votes like everyone else."""

    def load_charter(self, purpose: Any, agreements: Any, flags: Any = None) -> None:
        """Copy the charter's agreements as the step first opened; later calls change nothing.

        `flags` ({agreement id: [reasons]}, from an earlier agreements check) marks the
        agreements the team drifted from or should review; only the listed agreements and
        the known reasons (FLAG_REASONS) are kept.
        """
        if self.loaded:
            return
        self.agreements = charter_agreements(agreements)
        self.flags = known_flags(flags, [a["id"] for a in self.agreements])
        self.loaded = True

    # -- proposals ---------------------------------------------------------

    def propose(self, actor: Actor, kind: Any, target: Any, text: Any, review_date: Any) -> None:
        """Propose to amend or retire an agreement, or to add one."""
        self._require_started()
        if kind not in PROPOSAL_KINDS:
            raise RitualError("invalid_value")
        active = sum(p.status not in SET_ASIDE for p in self.proposals)
        if active >= MAX_PROPOSALS or len(self.proposals) >= MAX_PROPOSALS_KEPT:
            raise RitualError("too_many_proposals", limit=MAX_PROPOSALS)
        if kind == "add":
            if target is not None:
                raise RitualError("invalid_field", field="target")
            text = agreement_text(text)
            when = review_date_value(review_date)
        else:
            agreement = self._undecided(target)
            if kind == "amend":
                text = agreement_text(text)
                when = review_date_value(review_date)
                self._require_change(agreement, text, when)
            else:
                if text != "":
                    raise RitualError("invalid_field", field="text")
                if review_date != "":
                    raise RitualError("invalid_field", field="review_date")
                when = None
        self.proposals.append(
            Proposal(
                id=f"p{len(self.proposals) + 1}",
                kind=kind,
                target=target,
                text=text,
                review_date=when,
                author=actor.member_id,
            )
        )

    def amend_proposal(self, actor: Actor, proposal: Any, text: Any) -> None:
        """Change the text of a proposal that is not being voted on or decided."""
        self._require_started()
        mine = self._changeable(actor, proposal)
        if mine.kind == "retire":
            raise RitualError("invalid_field", field="text")
        text = agreement_text(text)
        if mine.kind == "amend":
            self._require_change(self._agreement(mine.target), text, mine.review_date)
        mine.text = text
        if mine.status == "objected":
            mine.status = "open"

    def withdraw(self, actor: Actor, proposal: Any) -> None:
        """Withdraw a proposal that is not being voted on or decided."""
        self._require_started()
        self._changeable(actor, proposal).status = "withdrawn"

    def keep(self, actor: Actor, agreement: Any) -> None:
        """Mark an agreement as kept; an accepted proposal may still change it later."""
        require_facilitator(actor)
        self._require_started()
        self._undecided(agreement)
        if agreement in self.kept:
            raise RitualError("already_kept")
        self.kept.append(agreement)
        self._supersede(agreement)

    # -- consent -----------------------------------------------------------

    def call_consent(self, actor: Actor, threshold: Any, proposal: Any) -> None:
        """Open the consent vote on a proposal; one vote at a time (facilitator only)."""
        require_facilitator(actor)
        self._require_started()
        if self.ballot is not None:
            raise RitualError("vote_open")
        if proposal is None:
            raise RitualError("invalid_field", field="proposal")
        chosen = self._proposal(proposal)
        if chosen.status == "superseded":
            raise RitualError("agreement_decided")
        if chosen.status not in UNDECIDED:
            raise RitualError("proposal_closed")
        if chosen.target is not None:
            self._undecided(chosen.target)
        self.ballot = ConsentVote.create(chosen.text, threshold, anonymous=self.anonymous)
        chosen.status = "voting"
        self.voting = chosen.id

    def consent(self, actor: Actor, score: Any, reason: Any) -> None:
        """Record the actor's fist-of-five score on the proposal being voted on."""
        self._require_started()
        require_open(self.ballot).cast(actor.member_id, score, reason)

    def close_consent(self, actor: Actor) -> None:
        """Close the vote: accept the proposal, or mark it objected (facilitator only)."""
        require_facilitator(actor)
        self._require_started()
        vote = require_open(self.ballot)
        chosen = self._proposal(self.voting)
        result = vote.close()
        chosen.rounds.append({**result, "text": vote.text})
        if result["passed"]:
            chosen.status = "accepted"
            self.accepted.append(chosen.id)
            if chosen.target is not None:
                if chosen.target in self.kept:
                    self.kept.remove(chosen.target)
                self._supersede(chosen.target)
        else:
            chosen.status = "objected"
        self.ballot = None
        self.voting = None

    def suspend(self) -> None:
        """Discard a vote still open as the room leaves the step: no round, no scores kept.

        Otherwise an anonymous vote's scores would stay stored next to their members.
        """
        if self.ballot is None or self.ballot.closed:
            return
        chosen = self._proposal(self.voting)
        latest = chosen.rounds[-1] if chosen.rounds else None
        # Back to what it was: objected if its last round, on this text, did not pass.
        objected = latest is not None and not latest["passed"] and latest["text"] == chosen.text
        chosen.status = "objected" if objected else "open"
        self.ballot = None
        self.voting = None

    def ratifiers(self) -> list[int]:
        """Return who took part in the votes that accepted proposals, in voting order."""
        return voters_of(
            r for pid in self.accepted for r in self._proposal(pid).rounds if r.get("passed")
        )

    # -- the draft ---------------------------------------------------------

    def draft_ops(self) -> list[dict[str, Any]]:
        """Return the accepted changes in acceptance order, as `apply_draft` takes them."""
        ops: list[dict[str, Any]] = []
        for proposal_id in self.accepted:
            p = self._proposal(proposal_id)
            if p.kind == "add":
                ops.append({"op": "add", "text": p.text, "review_date": p.review_date})
            else:
                # What the room saw when the step opened, so that publishing can tell
                # whether the charter changed meanwhile.
                agreement = self._agreement(p.target)
                base = {"text": agreement["text"], "review_date": agreement["review_date"]}
                if p.kind == "amend":
                    ops.append(
                        {
                            "op": "amend",
                            "id": p.target,
                            "text": p.text,
                            "review_date": p.review_date,
                            "base": base,
                        }
                    )
                else:
                    # The text also tells readers of the draft which agreement goes.
                    ops.append({"op": "retire", "id": p.target, "text": base["text"], "base": base})
        return ops

    # -- views -------------------------------------------------------------

    def public_view(self) -> dict[str, Any]:
        """Return what every member may see; no authors when the step is anonymous."""
        return {
            "kind": self.kind,
            "started": self.started,
            "anonymous": self.anonymous,
            "agreements": [
                {**a, "decision": self._decision(a["id"])} for a in copy.deepcopy(self.agreements)
            ],
            "proposals": [self._proposal_view(p) for p in self.proposals],
            "vote": {"proposal": self.voting, **self.ballot.public_view()} if self.ballot else None,
            "accepted": len(self.accepted),
            "flags": copy.deepcopy(self.flags),
        }

    def private_view(self, member_id: int) -> dict[str, Any]:
        """Return the member's own consent score and the ids of their proposals."""
        return {
            "consent": self.ballot.private_view(member_id) if self.ballot else None,
            "proposals": [p.id for p in self.proposals if p.author == member_id],
        }

    # -- persistence -------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "anonymous": self.anonymous,
            "started": self.started,
            "loaded": self.loaded,
            "agreements": copy.deepcopy(self.agreements),
            "kept": list(self.kept),
            "proposals": [p.to_state() for p in self.proposals],
            "ballot": self.ballot.to_state() if self.ballot else None,
            "voting": self.voting,
            "accepted": list(self.accepted),
            "flags": copy.deepcopy(self.flags),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> AgreementDrafting:
        """Rebuild from `to_state` output."""
        ballot = data.get("ballot")
        return cls(
            anonymous=bool(data.get("anonymous")),
            started=bool(data.get("started")),
            loaded=bool(data.get("loaded")),
            agreements=copy.deepcopy(list(data.get("agreements", []))),
            kept=list(data.get("kept", [])),
            proposals=[Proposal.from_state(p) for p in data.get("proposals", [])],
            ballot=ConsentVote.from_state(ballot) if ballot else None,
            voting=data.get("voting"),
            accepted=list(data.get("accepted", [])),
            flags=copy.deepcopy(dict(data.get("flags") or {})),
        )

    # -- internals ---------------------------------------------------------

    def _require_started(self) -> None:
        if not self.started:
            raise RitualError("step_not_started")

    def _agreement(self, agreement_id: Any) -> dict[str, Any]:
        """Return the listed agreement with this id."""
        for agreement in self.agreements:
            if agreement["id"] == agreement_id:
                return agreement
        raise RitualError("unknown_agreement")

    def _undecided(self, agreement_id: Any) -> dict[str, Any]:
        """Return the agreement, refusing one an accepted proposal already amends or retires."""
        agreement = self._agreement(agreement_id)
        if self._decision(agreement["id"]) in ("amended", "retired"):
            raise RitualError("agreement_decided")
        return agreement

    def _decision(self, agreement_id: str) -> str:
        """Return what the room decided about an agreement so far."""
        for proposal_id in self.accepted:
            p = self._proposal(proposal_id)
            if p.target == agreement_id:
                return "amended" if p.kind == "amend" else "retired"
        return "kept" if agreement_id in self.kept else "open"

    def _proposal(self, proposal_id: Any) -> Proposal:
        """Return the proposal with this id."""
        for proposal in self.proposals:
            if proposal.id == proposal_id:
                return proposal
        raise RitualError("unknown_proposal")

    def _changeable(self, actor: Actor, proposal_id: Any) -> Proposal:
        """Return a proposal the actor may still change: their own, or any for the facilitator."""
        proposal = self._proposal(proposal_id)
        if proposal.author != actor.member_id and not actor.is_facilitator:
            raise RitualError("not_author")
        if proposal.status == "voting":
            raise RitualError("vote_open")
        if proposal.status == "superseded":
            raise RitualError("agreement_decided")
        if proposal.status not in UNDECIDED:
            raise RitualError("proposal_closed")
        return proposal

    def _supersede(self, agreement_id: str) -> None:
        """Set aside the proposals still open on an agreement the room decided about."""
        for proposal in self.proposals:
            if proposal.target == agreement_id and proposal.status in UNDECIDED:
                proposal.status = "superseded"

    @staticmethod
    def _require_change(agreement: Mapping[str, Any], text: str, when: str | None) -> None:
        """Refuse an amendment that leaves the agreement as it is."""
        if text == agreement["text"] and when in (None, agreement["review_date"]):
            raise RitualError("no_change")

    def _proposal_view(self, proposal: Proposal) -> dict[str, Any]:
        view = proposal.to_state()
        view["rounds"] = [public_round(r) for r in proposal.rounds]
        if self.anonymous:
            del view["author"]
        return view
