"""Agreement drafting: keep, amend, retire and add agreements, each change by consent."""

from __future__ import annotations

import inspect
import json
import random

import pytest

from retro.charter import content
from retro.rituals import AgreementDrafting, RitualError
from retro.rituals.agreements import (
    AGREEMENT_LIMIT,
    FLAG_REASONS,
    MAX_PROPOSALS,
    MAX_PROPOSALS_KEPT,
    REVIEW_YEARS,
    review_date_value,
)
from tests.rituals.helpers import (
    FACILITATOR,
    FACILITATOR_ID,
    as_json,
    member,
    refused,
    round_trip,
    walk,
)

ANN, BOB, CAT = 4101, 4202, 4303
CHARTER = [
    {"id": "a1", "text": "We start on time.", "review_date": None},
    {"id": "a2", "text": "We answer within a day.", "review_date": "2027-01-01"},
    {"id": "a3", "text": "We demo on Fridays."},
]


def make_drafting(anonymous: bool = False) -> AgreementDrafting:
    """Return a started drafting step listing the three agreements of CHARTER."""
    drafting = AgreementDrafting.create(anonymous=anonymous)
    drafting.begin([FACILITATOR_ID, ANN, BOB, CAT], random.Random(0))
    drafting.load_charter("We ship software.", CHARTER)
    return drafting


def with_proposals(anonymous: bool = False) -> AgreementDrafting:
    """Return a drafting step with p1 (Ann adds), p2 (Bob amends a2), p3 (Cat retires a1)."""
    drafting = make_drafting(anonymous)
    drafting.propose(member(ANN), "add", None, "We pair daily.", "")
    drafting.propose(member(BOB), "amend", "a2", "We answer within hours.", "2027-06-01")
    drafting.propose(member(CAT), "retire", "a1", "", "")
    return drafting


def decide(drafting: AgreementDrafting, proposal: str, scores=(4, 5), reasons=("", "", "")) -> None:
    """Hold a consent vote (threshold 3) on a proposal with Ann's, Bob's (and Cat's) scores."""
    drafting.call_consent(FACILITATOR, 3, proposal)
    for voter, score, reason in zip((ANN, BOB, CAT), scores, reasons, strict=False):
        drafting.consent(member(voter), score, reason)
    drafting.close_consent(FACILITATOR)


def decisions(drafting: AgreementDrafting) -> dict[str, str]:
    """Return agreement id -> decision from the public view."""
    return {a["id"]: a["decision"] for a in drafting.public_view()["agreements"]}


def status(drafting: AgreementDrafting, proposal: str) -> str:
    """Return a proposal's status from the public view."""
    return next(p["status"] for p in drafting.public_view()["proposals"] if p["id"] == proposal)


# -- the protocol ---------------------------------------------------------------------------

AGREEMENT_COMMANDS = {
    "propose": ["kind", "target", "text", "review_date"],
    "amend_proposal": ["proposal", "text"],
    "withdraw": ["proposal"],
    "keep": ["agreement"],
    "call_consent": ["threshold", "proposal"],
    "consent": ["score", "reason"],
    "close_consent": [],
    "cancel_consent": [],
}
PURPOSE_ONLY = [
    "add_card",
    "edit_card",
    "delete_card",
    "reveal",
    "group_card",
    "title_group",
    "open_voting",
    "vote",
    "unvote",
    "close_voting",
    "draft_statement",
]


@pytest.mark.parametrize(("command", "fields"), AGREEMENT_COMMANDS.items())
def test_every_command_takes_the_actor_and_the_payload_fields(command, fields):
    parameters = list(inspect.signature(getattr(AgreementDrafting, command)).parameters)
    assert parameters == ["self", "actor", *fields]


@pytest.mark.parametrize("command", PURPOSE_ONLY)
def test_the_drafting_step_has_no_purpose_commands(command):
    assert not hasattr(AgreementDrafting, command)


def test_the_agreement_limit_matches_the_charter():
    assert AGREEMENT_LIMIT == content.AGREEMENT_LIMIT


# -- settings and lifecycle -------------------------------------------------------------------


@pytest.mark.parametrize("anonymous", ["yes", 1, None], ids=repr)
def test_a_bad_anonymous_setting_is_refused(anonymous):
    with pytest.raises(RitualError) as caught:
        AgreementDrafting.create(anonymous=anonymous)
    assert caught.value.code == "invalid_field"
    assert caught.value.params == {"field": "anonymous"}


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("propose", (member(ANN), "add", None, "We x.", "")),
        ("amend_proposal", (member(ANN), "p1", "We y.")),
        ("withdraw", (member(ANN), "p1")),
        ("keep", (FACILITATOR, "a1")),
        ("call_consent", (FACILITATOR, 3, "p1")),
        ("consent", (member(ANN), 3, "")),
        ("close_consent", (FACILITATOR,)),
        ("cancel_consent", (FACILITATOR,)),
    ],
)
def test_no_command_is_accepted_before_the_step_starts(command, args):
    drafting = AgreementDrafting.create()
    assert refused(getattr(drafting, command), *args) == "step_not_started"


def test_the_charters_agreements_are_listed_as_they_were_when_the_step_opened():
    drafting = make_drafting()
    drafting.load_charter(
        "Newer purpose", [{"id": "a9", "text": "We changed.", "review_date": None}]
    )
    view = drafting.public_view()
    assert view["agreements"] == [
        {"id": "a1", "text": "We start on time.", "review_date": None, "decision": "open"},
        {
            "id": "a2",
            "text": "We answer within a day.",
            "review_date": "2027-01-01",
            "decision": "open",
        },
        {"id": "a3", "text": "We demo on Fridays.", "review_date": None, "decision": "open"},
    ]
    assert view["proposals"] == []
    assert view["vote"] is None
    assert view["accepted"] == 0


def test_malformed_charter_items_are_skipped():
    drafting = AgreementDrafting.create()
    drafting.load_charter("", [{"id": "a1", "text": "Ok"}, {"id": 2, "text": "x"}, "junk", {}])
    assert [a["id"] for a in drafting.agreements] == ["a1"]
    other = AgreementDrafting.create()
    other.load_charter("", None)
    assert other.agreements == []
    assert other.loaded is True


def test_flags_from_an_agreements_check_are_kept_for_the_listed_agreements():
    drafting = AgreementDrafting.create()
    drafting.load_charter("", CHARTER, {"a1": ["low"], "a2": ["review_due", "low"]})
    assert drafting.public_view()["flags"] == {"a1": ["low"], "a2": ["low", "review_due"]}
    assert FLAG_REASONS == ("low", "review_due")


def test_flags_of_unknown_agreements_and_unknown_reasons_are_dropped():
    drafting = AgreementDrafting.create()
    drafting.load_charter(
        "",
        CHARTER,
        {
            "a9": ["low"],
            "a1": ["low", "stale", "low", 3, None],
            "a2": ["stale"],
            "a3": "low",
            7: ["low"],
        },
    )
    assert drafting.flags == {"a1": ["low"]}


@pytest.mark.parametrize("flags", [None, [], "low", {"a1": None}, {"a1": []}], ids=repr)
def test_no_or_malformed_flags_flag_nothing(flags):
    drafting = AgreementDrafting.create()
    drafting.load_charter("", CHARTER, flags)
    assert drafting.public_view()["flags"] == {}


def test_a_step_without_flags_shows_none():
    assert make_drafting().public_view()["flags"] == {}
    assert AgreementDrafting.create().public_view()["flags"] == {}


def test_flags_are_loaded_once_with_the_charter():
    drafting = AgreementDrafting.create()
    drafting.load_charter("", CHARTER, {"a1": ["low"]})
    drafting.load_charter("", CHARTER, {"a2": ["review_due"]})
    assert drafting.flags == {"a1": ["low"]}


def test_flags_survive_a_trip_through_json_and_a_state_without_them_has_none():
    drafting = AgreementDrafting.create()
    drafting.load_charter("", CHARTER, {"a2": ["low", "review_due"]})
    restored = round_trip(drafting)
    assert restored.public_view()["flags"] == {"a2": ["low", "review_due"]}
    state = drafting.to_state()
    del state["flags"]
    assert AgreementDrafting.from_state(state).flags == {}


def test_the_public_flags_are_a_copy():
    drafting = AgreementDrafting.create()
    drafting.load_charter("", CHARTER, {"a1": ["low"]})
    drafting.public_view()["flags"]["a1"].append("review_due")
    drafting.to_state()["flags"]["a1"].append("review_due")
    assert drafting.flags == {"a1": ["low"]}


def test_a_second_begin_and_a_late_join_change_nothing():
    drafting = with_proposals()
    before = drafting.to_state()
    drafting.begin([9], random.Random(1))
    drafting.join(9)
    assert drafting.to_state() == before


# -- proposals -----------------------------------------------------------------------------------


def test_members_propose_to_add_amend_and_retire():
    drafting = with_proposals()
    assert drafting.public_view()["proposals"] == [
        {
            "id": "p1",
            "kind": "add",
            "target": None,
            "text": "We pair daily.",
            "review_date": None,
            "author": ANN,
            "status": "open",
            "rounds": [],
        },
        {
            "id": "p2",
            "kind": "amend",
            "target": "a2",
            "text": "We answer within hours.",
            "review_date": "2027-06-01",
            "author": BOB,
            "status": "open",
            "rounds": [],
        },
        {
            "id": "p3",
            "kind": "retire",
            "target": "a1",
            "text": "",
            "review_date": None,
            "author": CAT,
            "status": "open",
            "rounds": [],
        },
    ]


def test_a_member_sees_which_proposals_are_theirs():
    drafting = with_proposals()
    drafting.propose(member(ANN), "add", None, "We laugh.", "")
    assert drafting.private_view(ANN) == {"consent": None, "proposals": ["p1", "p4"]}
    assert drafting.private_view(FACILITATOR_ID) == {"consent": None, "proposals": []}


def test_an_anonymous_step_never_shows_who_proposed():
    drafting = with_proposals(anonymous=True)
    view = drafting.public_view()
    assert all("author" not in p for p in view["proposals"])
    for member_id in (ANN, BOB, CAT):
        assert str(member_id) not in as_json(view)
    # The author may still change their own proposal.
    drafting.amend_proposal(member(ANN), "p1", "We pair every day.")
    assert refused(drafting.amend_proposal, member(BOB), "p1", "Mine") == "not_author"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("replace", None, "We x.", ""), "invalid_value"),
        ((None, None, "We x.", ""), "invalid_value"),
        (("add", "a1", "We x.", ""), "invalid_field"),
        (("add", None, "", ""), "empty_text"),
        (("add", None, None, ""), "invalid_value"),
        (("add", None, "x" * (AGREEMENT_LIMIT + 1), ""), "too_long"),
        (("add", None, "We\nsplit.", ""), "one_line"),
        (("amend", None, "We x.", ""), "unknown_agreement"),
        (("amend", "a9", "We x.", ""), "unknown_agreement"),
        (("amend", "a1", "", ""), "empty_text"),
        (("amend", "a1", "We start on time.", ""), "no_change"),
        (("amend", "a2", "We answer within a day.", "2027-01-01"), "no_change"),
        (("retire", "a9", "", ""), "unknown_agreement"),
        (("retire", "a1", "Because", ""), "invalid_field"),
        (("retire", "a1", None, ""), "invalid_field"),
        (("retire", "a1", "", "2027-01-01"), "invalid_field"),
    ],
)
def test_a_malformed_proposal_is_refused(args, code):
    assert refused(make_drafting().propose, member(ANN), *args) == code


@pytest.mark.parametrize(
    "review_date",
    [
        "2027-02-30",
        "2027-1-1",
        "20270101",
        "2027-W01-1",
        "20270101T0",
        "2027-01-01T00:00",
        "tomorrow",
        " ",
        None,
        2027,
    ],
    ids=repr,
)
def test_a_review_date_is_empty_or_an_iso_date(review_date):
    drafting = make_drafting()
    assert (
        refused(drafting.propose, member(ANN), "add", None, "We x.", review_date) == "invalid_date"
    )


def test_review_dates_are_parsed_strictly():
    assert review_date_value("") is None
    assert review_date_value("2028-02-29") == "2028-02-29"
    with pytest.raises(RitualError):
        review_date_value("+2027-01-01")


def test_an_amendment_may_change_only_the_review_date():
    drafting = make_drafting()
    drafting.propose(member(ANN), "amend", "a2", "We answer within a day.", "2027-09-01")
    assert drafting.proposals[0].review_date == "2027-09-01"


def test_a_step_holds_a_limited_number_of_proposals():
    drafting = make_drafting()
    for n in range(MAX_PROPOSALS):
        drafting.propose(member(ANN), "add", None, f"We do {n}.", "")
    assert refused(drafting.propose, member(BOB), "add", None, "We stop.", "") == (
        "too_many_proposals"
    )


def test_the_author_or_the_facilitator_amends_a_proposal():
    drafting = with_proposals()
    drafting.amend_proposal(member(ANN), "p1", "  We pair every day. ")
    drafting.amend_proposal(FACILITATOR, "p2", "We answer within two hours.")
    texts = {p["id"]: p["text"] for p in drafting.public_view()["proposals"]}
    assert texts["p1"] == "We pair every day."
    assert texts["p2"] == "We answer within two hours."
    assert refused(drafting.amend_proposal, member(CAT), "p1", "Mine") == "not_author"


@pytest.mark.parametrize(
    ("proposal", "text", "code"),
    [
        ("p9", "We x.", "unknown_proposal"),
        ("p1", "", "empty_text"),
        ("p1", "Two\nlines", "one_line"),
        ("p3", "We retire it.", "invalid_field"),
    ],
)
def test_a_bad_amendment_of_a_proposal_is_refused(proposal, text, code):
    assert refused(with_proposals().amend_proposal, FACILITATOR, proposal, text) == code


def test_an_amendment_cannot_be_changed_back_into_the_agreement_as_it_is():
    drafting = make_drafting()
    drafting.propose(member(ANN), "amend", "a1", "We start at nine.", "")
    assert refused(drafting.amend_proposal, member(ANN), "p1", "We start on time.") == "no_change"
    # With a new review date it is a change after all.
    drafting.propose(member(ANN), "amend", "a2", "We answer within hours.", "2027-06-01")
    drafting.amend_proposal(member(ANN), "p2", "We answer within a day.")
    assert drafting.proposals[1].text == "We answer within a day."


def test_the_author_or_the_facilitator_withdraws_a_proposal():
    drafting = with_proposals()
    assert refused(drafting.withdraw, member(BOB), "p1") == "not_author"
    drafting.withdraw(member(ANN), "p1")
    drafting.withdraw(FACILITATOR, "p2")
    assert status(drafting, "p1") == "withdrawn"
    assert status(drafting, "p2") == "withdrawn"
    assert refused(drafting.withdraw, member(ANN), "p1") == "proposal_closed"
    assert refused(drafting.amend_proposal, member(ANN), "p1", "Back") == "proposal_closed"
    assert refused(drafting.call_consent, FACILITATOR, 3, "p1") == "proposal_closed"


def test_a_proposal_under_vote_or_accepted_cannot_change():
    drafting = with_proposals()
    drafting.call_consent(FACILITATOR, 3, "p1")
    assert refused(drafting.amend_proposal, member(ANN), "p1", "We x.") == "vote_open"
    assert refused(drafting.withdraw, member(ANN), "p1") == "vote_open"
    drafting.consent(member(ANN), 5, "")
    drafting.close_consent(FACILITATOR)
    assert refused(drafting.amend_proposal, member(ANN), "p1", "We x.") == "proposal_closed"
    assert refused(drafting.withdraw, FACILITATOR, "p1") == "proposal_closed"


# -- keeping -------------------------------------------------------------------------------------


def test_the_facilitator_marks_an_agreement_kept():
    drafting = make_drafting()
    assert refused(drafting.keep, member(ANN), "a1") == "not_facilitator"
    drafting.keep(FACILITATOR, "a1")
    assert decisions(drafting) == {"a1": "kept", "a2": "open", "a3": "open"}
    assert refused(drafting.keep, FACILITATOR, "a1") == "already_kept"
    assert refused(drafting.keep, FACILITATOR, "a9") == "unknown_agreement"
    assert refused(drafting.keep, FACILITATOR, {"id": "a1"}) == "unknown_agreement"
    assert drafting.draft_ops() == []


def test_keeping_is_undone_by_an_accepted_proposal():
    drafting = make_drafting()
    drafting.keep(FACILITATOR, "a1")
    drafting.propose(member(ANN), "retire", "a1", "", "")
    decide(drafting, "p1")
    assert decisions(drafting)["a1"] == "retired"
    assert drafting.kept == []


# -- consent -------------------------------------------------------------------------------------


def test_a_consent_vote_on_a_proposal_shows_which_proposal():
    drafting = with_proposals()
    drafting.call_consent(FACILITATOR, 3, "p2")
    drafting.consent(member(ANN), 4, "")
    assert status(drafting, "p2") == "voting"
    assert drafting.public_view()["vote"] == {
        "proposal": "p2",
        "open": True,
        "text": "We answer within hours.",
        "threshold": 3,
        "count": 1,
        "voted": [ANN],
    }
    assert drafting.private_view(ANN)["consent"] == {"score": 4, "reason": ""}
    assert drafting.private_view(BOB)["consent"] is None


def test_only_the_facilitator_calls_and_closes_votes():
    drafting = with_proposals()
    assert refused(drafting.call_consent, member(ANN), 3, "p1") == "not_facilitator"
    drafting.call_consent(FACILITATOR, 3, "p1")
    drafting.consent(member(ANN), 5, "")
    assert refused(drafting.close_consent, member(ANN)) == "not_facilitator"


def test_the_consent_vote_names_a_proposal():
    drafting = with_proposals()
    with pytest.raises(RitualError) as caught:
        drafting.call_consent(FACILITATOR, 3, None)
    assert caught.value.code == "invalid_field"
    assert caught.value.params == {"field": "proposal"}
    assert refused(drafting.call_consent, FACILITATOR, 3, "p9") == "unknown_proposal"
    assert refused(drafting.call_consent, FACILITATOR, 6, "p1") == "invalid_value"
    # A threshold of 0 would let a block consent.
    assert refused(drafting.call_consent, FACILITATOR, 0, "p1") == "invalid_value"


def test_one_consent_vote_is_open_at_a_time():
    drafting = with_proposals()
    drafting.call_consent(FACILITATOR, 3, "p1")
    assert refused(drafting.call_consent, FACILITATOR, 3, "p2") == "vote_open"
    assert refused(drafting.call_consent, FACILITATOR, 3, "p1") == "vote_open"


def test_consent_is_given_only_while_a_vote_is_open():
    drafting = with_proposals()
    assert refused(drafting.consent, member(ANN), 5, "") == "no_vote_open"
    assert refused(drafting.close_consent, FACILITATOR) == "no_vote_open"


def test_a_vote_nobody_answered_cannot_close():
    drafting = with_proposals()
    drafting.call_consent(FACILITATOR, 3, "p1")
    assert refused(drafting.close_consent, FACILITATOR) == "no_votes"


def test_an_objection_needs_a_reason():
    drafting = with_proposals()
    drafting.call_consent(FACILITATOR, 3, "p1")
    assert refused(drafting.consent, member(ANN), 2, "") == "reason_required"


def test_accepted_proposals_form_the_draft_in_acceptance_order():
    drafting = with_proposals()
    decide(drafting, "p3")
    decide(drafting, "p1")
    decide(drafting, "p2")
    view = drafting.public_view()
    assert view["accepted"] == 3
    assert decisions(drafting) == {"a1": "retired", "a2": "amended", "a3": "open"}
    assert [p["status"] for p in view["proposals"]] == ["accepted", "accepted", "accepted"]
    assert drafting.draft_ops() == [
        {
            "op": "retire",
            "id": "a1",
            "text": "We start on time.",
            "base": {"text": "We start on time.", "review_date": None},
        },
        {"op": "add", "text": "We pair daily.", "review_date": None},
        {
            "op": "amend",
            "id": "a2",
            "text": "We answer within hours.",
            "review_date": "2027-06-01",
            "base": {"text": "We answer within a day.", "review_date": "2027-01-01"},
        },
    ]


def test_the_draft_applies_to_the_charter():
    drafting = with_proposals()
    for proposal in ("p1", "p2", "p3"):
        decide(drafting, proposal)
    start = content.CharterContent(
        purpose="We ship software.",
        agreements=tuple(content.Agreement(**a) for a in CHARTER),
    )
    applied = content.apply_draft(start, None, drafting.draft_ops(), new_id=lambda: "n1")
    assert [(a.id, a.text, a.review_date) for a in applied.agreements] == [
        ("a2", "We answer within hours.", "2027-06-01"),
        ("a3", "We demo on Fridays.", None),
        ("n1", "We pair daily.", None),
    ]


def test_a_decided_agreement_gets_no_other_vote_or_proposal():
    drafting = with_proposals()
    drafting.propose(member(ANN), "amend", "a1", "We start at nine.", "")
    decide(drafting, "p3")
    assert refused(drafting.call_consent, FACILITATOR, 3, "p4") == "agreement_decided"
    assert refused(drafting.propose, member(ANN), "amend", "a1", "We x.", "") == (
        "agreement_decided"
    )
    assert refused(drafting.keep, FACILITATOR, "a1") == "agreement_decided"
    assert status(drafting, "p4") == "superseded"


def test_an_objected_proposal_is_amended_and_voted_again_keeping_every_round():
    drafting = with_proposals()
    decide(drafting, "p1", scores=(1, 5), reasons=("Every day is too much", ""))
    assert status(drafting, "p1") == "objected"
    assert drafting.draft_ops() == []

    drafting.amend_proposal(member(ANN), "p1", "We pair twice a week.")
    assert status(drafting, "p1") == "open"
    decide(drafting, "p1")

    proposal = drafting.public_view()["proposals"][0]
    assert proposal["status"] == "accepted"
    assert [(r["text"], r["passed"]) for r in proposal["rounds"]] == [
        ("We pair daily.", False),
        ("We pair twice a week.", True),
    ]
    assert proposal["rounds"][0]["objections"] == [
        {"score": 1, "reason": "Every day is too much", "member": ANN}
    ]


def test_an_objected_proposal_may_be_voted_again_unchanged():
    drafting = with_proposals()
    decide(drafting, "p1", scores=(1,), reasons=("Not now",))
    decide(drafting, "p1", scores=(3,))
    assert status(drafting, "p1") == "accepted"


def test_someone_who_left_without_voting_does_not_block_but_a_cast_objection_does():
    drafting = with_proposals()
    # Cat was present when the vote was called and left without voting.
    decide(drafting, "p1", scores=(4,))
    assert status(drafting, "p1") == "accepted"
    # Bob objected and then left before the vote closed.
    decide(drafting, "p2", scores=(4, 0), reasons=("", "Hours is impossible"))
    assert status(drafting, "p2") == "objected"


def test_an_anonymous_vote_names_nobody_and_forgets_who_scored_what():
    drafting = with_proposals(anonymous=True)
    decide(drafting, "p2", scores=(1, 2, 5), reasons=("Too fast", "Unrealistic", ""))
    view = drafting.public_view()
    rounds = view["proposals"][1]["rounds"]
    assert rounds[0]["objections"] == [
        {"score": 1, "reason": "Too fast"},
        {"score": 2, "reason": "Unrealistic"},
    ]
    assert "scores" not in rounds[0]
    assert "voters" not in rounds[0]
    for member_id in (ANN, BOB, CAT):
        assert str(member_id) not in as_json(view)
    assert drafting.ballot is None
    stored = drafting.to_state()["proposals"][1]["rounds"][0]
    assert stored["voters"] == [ANN, BOB, CAT]
    assert "scores" not in stored


def test_an_open_anonymous_vote_shows_only_how_many_have_voted():
    drafting = with_proposals(anonymous=True)
    drafting.call_consent(FACILITATOR, 3, "p1")
    drafting.consent(member(ANN), 4, "")
    drafting.consent(member(BOB), 1, "No")
    assert drafting.public_view()["vote"] == {
        "proposal": "p1",
        "open": True,
        "text": "We pair daily.",
        "threshold": 3,
        "count": 2,
    }
    assert refused(drafting.close_consent, FACILITATOR) == "anonymous_needs_three"
    drafting.consent(member(CAT), 5, "")
    drafting.close_consent(FACILITATOR)
    assert status(drafting, "p1") == "objected"


# -- cancelling a vote -----------------------------------------------------------------------


def test_the_facilitator_cancels_a_vote_and_nothing_of_it_is_kept():
    drafting = with_proposals(anonymous=True)
    drafting.call_consent(FACILITATOR, 3, "p2")
    drafting.consent(member(ANN), 1, "Too fast")
    drafting.consent(member(BOB), 5, "")
    assert refused(drafting.cancel_consent, member(ANN)) == "not_facilitator"

    drafting.cancel_consent(FACILITATOR)

    view = drafting.public_view()
    assert view["vote"] is None
    assert status(drafting, "p2") == "open"
    assert view["proposals"][1]["rounds"] == []
    assert drafting.private_view(ANN)["consent"] is None
    stored = drafting.to_state()
    assert stored["ballot"] is None and stored["voting"] is None
    assert "Too fast" not in as_json(stored)
    assert refused(drafting.cancel_consent, FACILITATOR) == "no_vote_open"
    # The proposal may change again, and another vote may be called.
    drafting.amend_proposal(member(BOB), "p2", "We answer within two hours.")
    drafting.call_consent(FACILITATOR, 3, "p1")
    assert drafting.public_view()["vote"]["proposal"] == "p1"


def test_a_cancelled_vote_leaves_an_objected_proposal_objected():
    drafting = with_proposals()
    decide(drafting, "p1", scores=(1,), reasons=("Not now",))
    drafting.call_consent(FACILITATOR, 3, "p1")
    drafting.consent(member(ANN), 5, "")
    drafting.cancel_consent(FACILITATOR)
    assert status(drafting, "p1") == "objected"
    assert len(drafting.proposals[0].rounds) == 1
    # Once amended it is open, and a cancelled vote on it leaves it open.
    drafting.amend_proposal(member(ANN), "p1", "We pair weekly.")
    drafting.call_consent(FACILITATOR, 3, "p1")
    drafting.cancel_consent(FACILITATOR)
    assert status(drafting, "p1") == "open"


def test_leaving_the_step_cancels_an_open_vote_and_changes_nothing_else():
    drafting = with_proposals()
    before = drafting.to_state()
    drafting.suspend()
    assert drafting.to_state() == before
    drafting.call_consent(FACILITATOR, 3, "p3")
    drafting.consent(member(ANN), 4, "")
    drafting.suspend()
    assert drafting.to_state() == before


# -- superseded proposals ------------------------------------------------------------------------


def test_accepting_a_change_supersedes_the_other_proposals_on_that_agreement():
    drafting = with_proposals()
    drafting.propose(member(ANN), "amend", "a1", "We start at nine.", "")
    drafting.propose(member(BOB), "amend", "a1", "We start at ten.", "")
    decide(drafting, "p4", scores=(1,), reasons=("Too early",))
    drafting.withdraw(member(BOB), "p5")
    decide(drafting, "p3")  # retire a1

    assert [status(drafting, p) for p in ("p1", "p2", "p3", "p4", "p5")] == [
        "open",
        "open",
        "accepted",
        "superseded",
        "withdrawn",
    ]
    assert refused(drafting.call_consent, FACILITATOR, 3, "p4") == "agreement_decided"
    assert refused(drafting.amend_proposal, member(ANN), "p4", "We x.") == "agreement_decided"
    assert refused(drafting.withdraw, FACILITATOR, "p4") == "agreement_decided"
    assert [op["op"] for op in drafting.draft_ops()] == ["retire"]


def test_keeping_an_agreement_supersedes_its_open_proposals_but_not_later_ones():
    drafting = with_proposals()
    drafting.keep(FACILITATOR, "a2")
    assert status(drafting, "p2") == "superseded"
    assert status(drafting, "p1") == "open"
    assert status(drafting, "p3") == "open"
    # Keeping may still be undone by a new proposal.
    drafting.propose(member(CAT), "amend", "a2", "We answer by noon.", "")
    decide(drafting, "p4")
    assert decisions(drafting)["a2"] == "amended"


def test_a_proposal_being_voted_on_is_not_superseded_by_keeping():
    drafting = with_proposals()
    drafting.call_consent(FACILITATOR, 3, "p2")
    drafting.keep(FACILITATOR, "a2")
    assert status(drafting, "p2") == "voting"


def test_withdrawn_and_superseded_proposals_do_not_count_towards_the_limit():
    drafting = make_drafting()
    drafting.propose(member(ANN), "amend", "a1", "We start at nine.", "")
    drafting.keep(FACILITATOR, "a1")
    for n in range(MAX_PROPOSALS - 1):
        drafting.propose(member(ANN), "add", None, f"We do {n}.", "")
    drafting.withdraw(member(ANN), "p2")
    for n in range(2):
        drafting.propose(member(BOB), "add", None, f"We also do {n}.", "")
    assert refused(drafting.propose, member(BOB), "add", None, "We stop.", "") == (
        "too_many_proposals"
    )


def test_the_list_of_proposals_is_bounded_even_when_they_are_withdrawn():
    drafting = make_drafting()
    for n in range(MAX_PROPOSALS_KEPT):
        drafting.propose(member(ANN), "add", None, f"We do {n}.", "")
        drafting.withdraw(member(ANN), f"p{n + 1}")
    assert refused(drafting.propose, member(ANN), "add", None, "We stop.", "") == (
        "too_many_proposals"
    )


# -- what the room saw, and who ratified -------------------------------------------------------


def test_amend_and_retire_ops_carry_the_agreement_as_the_room_saw_it():
    drafting = make_drafting()
    drafting.propose(member(ANN), "amend", "a3", "We demo on Thursdays.", "2027-03-01")
    drafting.propose(member(ANN), "retire", "a2", "", "")
    decide(drafting, "p1")
    decide(drafting, "p2")
    assert [op["base"] for op in drafting.draft_ops()] == [
        {"text": "We demo on Fridays.", "review_date": None},
        {"text": "We answer within a day.", "review_date": "2027-01-01"},
    ]


def test_ratifiers_are_who_voted_on_accepted_proposals_in_first_vote_order():
    drafting = with_proposals()
    assert drafting.ratifiers() == []
    # An objected round's voters and a proposal never accepted do not count.
    drafting.call_consent(FACILITATOR, 3, "p2")
    drafting.consent(member(CAT), 1, "No")
    drafting.close_consent(FACILITATOR)
    drafting.call_consent(FACILITATOR, 3, "p1")
    drafting.consent(member(BOB), 4, "")
    drafting.consent(member(ANN), 1, "Hm")
    drafting.consent(member(ANN), 4, "")
    drafting.close_consent(FACILITATOR)
    drafting.call_consent(FACILITATOR, 3, "p3")
    drafting.consent(FACILITATOR, 5, "")
    drafting.consent(member(ANN), 5, "")
    drafting.close_consent(FACILITATOR)
    assert drafting.ratifiers() == [BOB, ANN, FACILITATOR_ID]
    assert round_trip(drafting).ratifiers() == [BOB, ANN, FACILITATOR_ID]


def test_no_public_view_says_who_took_part_in_a_round():
    drafting = with_proposals()
    decide(drafting, "p1")
    for node in walk(drafting.public_view()):
        assert not (isinstance(node, dict) and "voters" in node)


@pytest.mark.parametrize("blank", ["\u200b", "\u202e", "\u2066 \u2069", "\u200d\u200c"], ids=repr)
def test_an_agreement_of_invisible_characters_is_empty(blank):
    drafting = make_drafting()
    assert refused(drafting.propose, member(ANN), "add", None, blank, "") == "empty_text"
    assert refused(drafting.propose, member(ANN), "amend", "a1", blank, "") == "empty_text"


def test_an_agreement_loses_its_bidi_overrides():
    drafting = make_drafting()
    drafting.propose(member(ANN), "add", None, "\u202eWe pair\u2066 daily.\u2069", "")
    assert drafting.proposals[0].text == "We pair daily."


# -- persistence ---------------------------------------------------------------------------------


def test_the_step_survives_a_trip_through_json_at_every_stage():
    drafting = round_trip(with_proposals())
    drafting.keep(FACILITATOR, "a3")
    drafting.call_consent(FACILITATOR, 3, "p2")
    drafting.consent(member(ANN), 1, "No")
    drafting = round_trip(drafting)
    assert drafting.private_view(ANN)["consent"] == {"score": 1, "reason": "No"}
    drafting.close_consent(FACILITATOR)
    drafting = round_trip(drafting)
    decide(drafting, "p1")
    drafting.withdraw(member(CAT), "p3")
    restored = round_trip(drafting)
    assert restored.public_view() == drafting.public_view()
    assert restored.draft_ops() == drafting.draft_ops()


def test_an_empty_state_is_a_new_step():
    assert AgreementDrafting.from_state({}) == AgreementDrafting()


def test_to_state_is_a_snapshot_that_later_moves_do_not_change():
    drafting = with_proposals()
    state = drafting.to_state()
    frozen = json.dumps(state, sort_keys=True)
    drafting.amend_proposal(member(ANN), "p1", "We pair often.")
    decide(drafting, "p1")
    drafting.keep(FACILITATOR, "a3")
    assert json.dumps(state, sort_keys=True) == frozen


@pytest.mark.parametrize("review_date", ["1999-12-31", "2101-01-01", "0001-01-01"])
def test_a_review_date_outside_the_charter_years_is_refused(review_date):
    drafting = make_drafting(False)
    with pytest.raises(RitualError) as refused:
        drafting.propose(member(ANN), "add", None, "We pair daily.", review_date)
    assert refused.value.code == "date_out_of_range"
    assert drafting.public_view()["proposals"] == []


def test_the_review_years_match_the_charter():
    assert content.REVIEW_YEARS == REVIEW_YEARS
