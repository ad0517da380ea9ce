"""Charter content: serialising, checking, the change summary, comparisons and room drafts."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retro.charter.content import (
    AGREEMENT_LIMIT,
    ANCHOR_NAME_LIMIT,
    CADENCES,
    LEADERSHIP_LIMIT,
    MAX_AGREEMENTS,
    MAX_ANCHORS,
    PURPOSE_LIMIT,
    Agreement,
    Anchor,
    CharterContent,
    apply_draft,
    check_draft,
    compare,
    diff,
    new_item_id,
    parse_review_date,
    rebase,
    validate,
    word_diff,
)
from retro.rituals import RitualError

START = Agreement("a1", "We start on time.")
CAMERAS = Agreement("a2", "We keep cameras on.", "2027-01-31")
FEEDBACK = Agreement("a3", "We give feedback in person.")
WEEKLY = Anchor("k1", "Weekly retro", "weekly", "checkin")
CHARTER = CharterContent(
    purpose="We help small shops sell online.",
    agreements=(START, CAMERAS, FEEDBACK),
    anchors=(WEEKLY,),
    leadership="The product owner decides on scope.",
)


def ids() -> callable:
    """Return a predictable id source: n1, n2, …"""
    numbers = count(1)
    return lambda: f"n{next(numbers)}"


def kinds(changes: list[dict]) -> list[str]:
    """Return just the kinds of a change summary."""
    return [change["kind"] for change in changes]


def rejoin(runs, *keep: str) -> str:
    """Return the text of a word diff's runs of the given kinds."""
    return "".join(text for op, text in runs if op in keep)


# -- values ---------------------------------------------------------------------------


def test_content_round_trips_through_json_with_a_stable_key_order():
    data = CHARTER.to_dict()
    assert list(data) == ["purpose", "agreements", "anchors", "leadership"]
    assert list(data["agreements"][0]) == ["id", "text", "review_date"]
    assert list(data["anchors"][0]) == ["id", "name", "cadence", "agenda"]
    assert CharterContent.from_dict(json.loads(json.dumps(data))) == CHARTER


@pytest.mark.parametrize("data", [None, {}, [], "text", {"agreements": "nope", "anchors": 3}])
def test_reading_missing_or_malformed_data_gives_an_empty_charter(data):
    content = CharterContent.from_dict(data)
    assert content == CharterContent()
    assert content.is_empty()


def test_reading_is_tolerant_of_missing_fields_in_items():
    content = CharterContent.from_dict(
        {
            "purpose": 42,
            "agreements": [{"text": "We listen."}, "junk", {"id": "a9", "review_date": "soon"}],
            "anchors": [{"id": "k1", "name": "Retro"}],
        }
    )
    assert content.purpose == ""
    assert [a.text for a in content.agreements] == ["We listen.", ""]
    assert content.agreements[0].id  # a fresh id for an item that had none
    assert content.agreements[1] == Agreement("a9", "", None)
    assert content.anchors == (Anchor("k1", "Retro", "", ""),)


def test_a_charter_with_only_whitespace_is_empty():
    assert CharterContent(purpose="  \n", leadership="\t").is_empty()
    assert not CharterContent(anchors=(WEEKLY,)).is_empty()
    assert not CHARTER.is_empty()


def test_new_ids_are_short_and_distinct():
    made = {new_item_id() for _ in range(200)}
    assert len(made) == 200
    assert all(len(i) == 8 for i in made)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-02-28", "2027-02-28"),
        (" 2027-02-28 ", "2027-02-28"),
        ("2027-02-30", None),
        ("28-02-2027", None),
        ("", None),
        (None, None),
        (20270228, None),
        ("2000-01-01", "2000-01-01"),
        ("2100-12-31", "2100-12-31"),
        ("1999-12-31", None),
        ("2101-01-01", None),
        ("0001-01-01", None),
        ("9999-12-31", None),
    ],
)
def test_review_dates_are_iso_dates_or_none(value, expected):
    assert parse_review_date(value) == expected


# -- validating -----------------------------------------------------------------------


def test_validating_tidies_whitespace_and_line_ends():
    messy = CharterContent(
        purpose="  We help.\r\nReally.  ",
        agreements=(Agreement("a1", "  We listen. "),),
        anchors=(Anchor("k1", "  Weekly   retro ", "weekly", "checkin"),),
        leadership="\rRoles\r\n",
    )
    clean = validate(messy)
    assert clean.purpose == "We help.\nReally."
    assert clean.agreements[0].text == "We listen."
    assert clean.anchors[0].name == "Weekly retro"
    assert clean.leadership == "Roles"
    assert validate(clean) == clean


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (CharterContent(purpose="x" * (PURPOSE_LIMIT + 1)), "too_long"),
        (CharterContent(leadership="x" * (LEADERSHIP_LIMIT + 1)), "too_long"),
        (CharterContent(agreements=(Agreement("a", "x" * (AGREEMENT_LIMIT + 1)),)), "too_long"),
        (
            CharterContent(anchors=(Anchor("k", "x" * (ANCHOR_NAME_LIMIT + 1), "weekly", "c"),)),
            "too_long",
        ),
        (CharterContent(agreements=(Agreement("a", "   "),)), "empty_text"),
        (CharterContent(anchors=(Anchor("k", " ", "weekly", "checkin"),)), "empty_name"),
        (CharterContent(anchors=(Anchor("k", "Retro", "daily", "checkin"),)), "invalid_cadence"),
        (CharterContent(anchors=(Anchor("k", "Retro", "weekly", ""),)), "invalid_value"),
        (CharterContent(agreements=(Agreement("a", "We", "2027-13-01"),)), "invalid_date"),
        (CharterContent(agreements=(Agreement("a", "We", "1999-12-31"),)), "date_out_of_range"),
        (CharterContent(agreements=(Agreement("a", "We", "2101-01-01"),)), "date_out_of_range"),
        (CharterContent(agreements=(START, replace(CAMERAS, id="a1"))), "duplicate_id"),
        (CharterContent(agreements=(Agreement("", "We"),)), "duplicate_id"),
        (
            CharterContent(
                agreements=tuple(Agreement(f"a{n}", "We") for n in range(MAX_AGREEMENTS + 1))
            ),
            "too_many_agreements",
        ),
        (
            CharterContent(
                anchors=tuple(Anchor(f"k{n}", "R", "weekly", "c") for n in range(MAX_ANCHORS + 1))
            ),
            "too_many_anchors",
        ),
    ],
)
def test_validating_refuses_what_breaks_a_limit(content, code):
    with pytest.raises(RitualError) as refused:
        validate(content)
    assert refused.value.code == code


def test_an_out_of_range_review_date_names_the_years():
    with pytest.raises(RitualError) as refused:
        validate(CharterContent(agreements=(Agreement("a", "We", "0001-01-01"),)))
    assert refused.value.params == {"low": 2000, "high": 2100}


def test_an_agreement_is_one_line():
    messy = CharterContent(agreements=(Agreement("a1", "We listen\r\n  and\nwe  ask."),))
    assert validate(messy).agreements[0].text == "We listen and we  ask."


def test_the_limits_themselves_are_allowed():
    content = CharterContent(
        purpose="x" * PURPOSE_LIMIT,
        agreements=tuple(Agreement(f"a{n}", "y" * AGREEMENT_LIMIT) for n in range(MAX_AGREEMENTS)),
        anchors=tuple(
            Anchor(f"k{n}", "z" * ANCHOR_NAME_LIMIT, CADENCES[n % len(CADENCES)], "checkin")
            for n in range(MAX_ANCHORS)
        ),
        leadership="w" * LEADERSHIP_LIMIT,
    )
    assert validate(content) == content


# -- the change summary -----------------------------------------------------------------


def test_the_first_version_summarises_everything_as_new():
    changes = diff(None, CHARTER)
    assert kinds(changes) == [
        "purpose_set",
        "agreement_added",
        "agreement_added",
        "agreement_added",
        "anchor_added",
        "leadership_set",
    ]
    assert changes[1] == {"kind": "agreement_added", "id": "a1", "text": "We start on time."}
    assert changes[4] == {"kind": "anchor_added", "id": "k1", "name": "Weekly retro"}


def test_identical_content_has_no_changes():
    assert diff(CHARTER, CHARTER) == []
    assert diff(None, CharterContent()) == []


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("", "We help.", "purpose_set"),
        ("We help.", "We help shops.", "purpose_changed"),
        ("We help.", "", "purpose_cleared"),
    ],
)
def test_the_purpose_is_set_changed_or_cleared(old, new, kind):
    changes = diff(CharterContent(purpose=old), CharterContent(purpose=new))
    assert changes == [{"kind": kind}]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("", "Anyone may facilitate.", "leadership_set"),
        ("Anyone may facilitate.", "Ann facilitates.", "leadership_changed"),
        ("Anyone may facilitate.", "  ", "leadership_cleared"),
    ],
)
def test_leadership_is_set_changed_or_cleared(old, new, kind):
    changes = diff(CharterContent(leadership=old), CharterContent(leadership=new))
    assert changes == [{"kind": kind}]


def test_whitespace_around_a_text_is_no_change():
    assert diff(CharterContent(purpose="We help."), CharterContent(purpose=" We help.\n")) == []


def test_an_added_agreement_is_named_with_its_text():
    later = replace(CHARTER, agreements=(*CHARTER.agreements, Agreement("a4", "We laugh.")))
    assert diff(CHARTER, later) == [{"kind": "agreement_added", "id": "a4", "text": "We laugh."}]


def test_an_amended_agreement_keeps_its_old_text():
    later = replace(
        CHARTER, agreements=(replace(START, text="We start at 9:00."), CAMERAS, FEEDBACK)
    )
    assert diff(CHARTER, later) == [
        {
            "kind": "agreement_amended",
            "id": "a1",
            "old": "We start on time.",
            "text": "We start at 9:00.",
        }
    ]


def test_a_retired_agreement_is_named_with_its_text():
    later = replace(CHARTER, agreements=(START, FEEDBACK))
    assert diff(CHARTER, later) == [
        {"kind": "agreement_retired", "id": "a2", "text": "We keep cameras on."}
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [(None, "2027-06-30"), ("2027-01-31", "2027-06-30"), ("2027-01-31", None)],
)
def test_a_review_date_change_says_from_what_to_what(old, new):
    before = CharterContent(agreements=(replace(CAMERAS, review_date=old),))
    after = CharterContent(agreements=(replace(CAMERAS, review_date=new),))
    assert diff(before, after) == [
        {
            "kind": "agreement_review_date",
            "id": "a2",
            "text": "We keep cameras on.",
            "old": old,
            "new": new,
        }
    ]


def test_text_and_review_date_changed_together_are_two_entries():
    later = replace(
        CHARTER, agreements=(START, Agreement("a2", "Cameras optional.", None), FEEDBACK)
    )
    assert kinds(diff(CHARTER, later)) == ["agreement_amended", "agreement_review_date"]


def test_agreements_are_matched_by_id_not_by_position():
    later = replace(CHARTER, agreements=(FEEDBACK, START, CAMERAS))
    assert diff(CHARTER, later) == [{"kind": "agreements_reordered"}]


def test_removing_one_agreement_is_not_a_reordering():
    later = replace(CHARTER, agreements=(START, FEEDBACK, Agreement("a4", "We laugh.")))
    assert kinds(diff(CHARTER, later)) == ["agreement_added", "agreement_retired"]


def test_the_same_text_under_a_new_id_is_a_retirement_and_an_addition():
    later = replace(CHARTER, agreements=(START, CAMERAS, replace(FEEDBACK, id="a9")))
    assert kinds(diff(CHARTER, later)) == ["agreement_added", "agreement_retired"]


@pytest.mark.parametrize(
    "changed",
    [
        replace(WEEKLY, name="Friday retro"),
        replace(WEEKLY, cadence="biweekly"),
        replace(WEEKLY, agenda="charter"),
    ],
)
def test_an_anchor_change_of_any_field_is_named_with_its_new_name(changed):
    later = replace(CHARTER, anchors=(changed,))
    assert diff(CHARTER, later) == [{"kind": "anchor_changed", "id": "k1", "name": changed.name}]


def test_anchors_added_and_removed_are_named():
    monthly = Anchor("k2", "Monthly charter review", "monthly", "charter")
    later = replace(CHARTER, anchors=(monthly,))
    assert diff(CHARTER, later) == [
        {"kind": "anchor_added", "id": "k2", "name": "Monthly charter review"},
        {"kind": "anchor_removed", "id": "k1", "name": "Weekly retro"},
    ]


def test_the_summary_lists_sections_in_charter_order():
    later = CharterContent(
        purpose="We help everyone sell online.",
        agreements=(Agreement("a4", "We laugh."), replace(START, text="We start at 9."), CAMERAS),
        anchors=(),
        leadership="",
    )
    assert kinds(diff(CHARTER, later)) == [
        "purpose_changed",
        "agreement_added",
        "agreement_amended",
        "agreement_retired",
        "anchor_removed",
        "leadership_cleared",
    ]


def test_the_summary_is_json_ready():
    later = replace(CHARTER, agreements=(replace(CAMERAS, review_date=None),), purpose="")
    changes = diff(CHARTER, later)
    assert json.loads(json.dumps(changes)) == changes


# -- word diffs -----------------------------------------------------------------------


def test_a_word_diff_marks_changed_words():
    runs = word_diff("We help small shops sell online.", "We help local shops sell everywhere.")
    assert runs == [
        ("equal", "We help "),
        ("delete", "small"),
        ("insert", "local"),
        ("equal", " shops sell "),
        ("delete", "online."),
        ("insert", "everywhere."),
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", ""),
        ("", "New text"),
        ("Old text", ""),
        ("one two  three\nfour", "one  three\n\nfour five"),
        ("a b a b a b", "b a b a"),
        ("Ünïcödé wörds ✓", "Ünïcödé ✓ wörds"),
    ],
)
def test_a_word_diff_gives_back_both_texts_exactly(old, new):
    runs = word_diff(old, new)
    assert rejoin(runs, "equal", "delete") == old
    assert rejoin(runs, "equal", "insert") == new
    assert all(text for _op, text in runs)
    # Runs of one kind are merged.
    assert all(a[0] != b[0] for a, b in zip(runs, runs[1:], strict=False))


def test_a_word_diff_of_equal_texts_is_one_equal_run():
    assert word_diff("Same words.", "Same words.") == [("equal", "Same words.")]
    assert word_diff("", "") == []


# -- comparing versions ----------------------------------------------------------------


def test_comparing_shows_item_level_agreements_in_the_new_order():
    later = replace(
        CHARTER,
        agreements=(replace(START, text="We start at 9."), Agreement("a4", "We laugh."), FEEDBACK),
    )
    rows = compare(CHARTER, later)["agreements"]
    assert [(r["id"], r["status"]) for r in rows] == [
        ("a1", "amended"),
        # A retired agreement is shown where it used to be: right after its old predecessor.
        ("a2", "retired"),
        ("a4", "added"),
        ("a3", "unchanged"),
    ]
    amended, retired, added, unchanged = rows
    assert amended["old"]["text"] == "We start on time."
    assert amended["new"]["text"] == "We start at 9."
    assert ("insert", "at 9.") in amended["words"]
    assert added["old"] is None and added["words"] is None
    assert retired["new"] is None and retired["old"] == {
        "id": "a2",
        "text": "We keep cameras on.",
        "review_date": "2027-01-31",
    }
    assert unchanged["old"] == unchanged["new"] and unchanged["words"] is None


def test_a_retired_first_agreement_stays_first():
    rows = compare(CHARTER, replace(CHARTER, agreements=(CAMERAS, FEEDBACK)))["agreements"]
    assert [(r["id"], r["status"]) for r in rows] == [
        ("a1", "retired"),
        ("a2", "unchanged"),
        ("a3", "unchanged"),
    ]


def test_consecutive_retired_agreements_keep_their_order():
    rows = compare(CHARTER, replace(CHARTER, agreements=(FEEDBACK,)))["agreements"]
    assert [(r["id"], r["status"]) for r in rows] == [
        ("a1", "retired"),
        ("a2", "retired"),
        ("a3", "unchanged"),
    ]


def test_a_changed_review_date_alone_counts_as_amended():
    later = replace(CHARTER, agreements=(START, replace(CAMERAS, review_date=None), FEEDBACK))
    row = compare(CHARTER, later)["agreements"][1]
    assert row["status"] == "amended"
    assert row["words"] == [("equal", "We keep cameras on.")]


def test_comparing_shows_anchors_added_changed_and_removed():
    monthly = Anchor("k2", "Monthly review", "monthly", "charter")
    older = replace(CHARTER, anchors=(WEEKLY, monthly))
    quarterly = Anchor("k3", "Offsite", "quarterly", "charter")
    later = replace(CHARTER, anchors=(replace(WEEKLY, cadence="biweekly"), quarterly))
    rows = compare(older, later)["anchors"]
    assert [(r["id"], r["status"]) for r in rows] == [
        ("k1", "changed"),
        ("k2", "removed"),
        ("k3", "added"),
    ]
    assert rows[0]["old"]["cadence"] == "weekly" and rows[0]["new"]["cadence"] == "biweekly"


def test_comparing_gives_word_diffs_of_purpose_and_leadership():
    later = replace(CHARTER, purpose="We help big shops sell online.", leadership="")
    result = compare(CHARTER, later)
    assert ("insert", "big") in result["purpose"]
    assert result["leadership"] == [("delete", "The product owner decides on scope.")]


def test_comparing_with_nothing_shows_everything_added():
    result = compare(None, CHARTER)
    assert {r["status"] for r in result["agreements"] + result["anchors"]} == {"added"}
    assert result["purpose"] == [("insert", CHARTER.purpose)]


def test_comparing_a_version_with_itself_changes_nothing():
    result = compare(CHARTER, CHARTER)
    assert {r["status"] for r in result["agreements"] + result["anchors"]} == {"unchanged"}
    assert result["purpose"] == [("equal", CHARTER.purpose)]


def test_comparing_two_empty_charters_has_nothing_to_show():
    assert compare(CharterContent(), CharterContent()) == {
        "purpose": [],
        "agreements": [],
        "anchors": [],
        "leadership": [],
    }


# -- applying a room's draft -------------------------------------------------------------


def test_a_draft_replaces_the_purpose_when_one_was_ratified():
    assert apply_draft(CHARTER, " We help every shop. ", []).purpose == "We help every shop."
    assert apply_draft(CHARTER, None, []) == CHARTER


def test_a_draft_amends_retires_and_adds_agreements_in_order():
    ops = [
        {"op": "amend", "id": "a1", "text": "We start at 9:00.", "review_date": "2027-03-01"},
        {"op": "retire", "id": "a2"},
        {"op": "add", "text": "We laugh.", "review_date": ""},
        {"op": "add", "text": "We rest.", "review_date": "2027-05-01"},
    ]
    result = apply_draft(CHARTER, None, ops, new_id=ids())
    assert result.agreements == (
        Agreement("a1", "We start at 9:00.", "2027-03-01"),
        FEEDBACK,
        Agreement("n1", "We laugh.", None),
        Agreement("n2", "We rest.", "2027-05-01"),
    )
    assert result.anchors == CHARTER.anchors
    assert result.leadership == CHARTER.leadership


def test_an_amendment_without_a_review_date_keeps_the_old_one():
    ops = [{"op": "amend", "id": "a2", "text": "Cameras on, mostly.", "review_date": ""}]
    assert apply_draft(CHARTER, None, ops).agreements[1] == Agreement(
        "a2", "Cameras on, mostly.", "2027-01-31"
    )


def test_an_amendment_without_text_keeps_the_old_text():
    ops = [{"op": "amend", "id": "a1", "text": "", "review_date": "2027-09-01"}]
    assert apply_draft(CHARTER, None, ops).agreements[0] == replace(START, review_date="2027-09-01")


def test_ops_on_agreements_removed_meanwhile_are_skipped():
    edited = replace(CHARTER, agreements=(FEEDBACK,))
    ops = [
        {"op": "amend", "id": "a1", "text": "We start at 9:00.", "review_date": ""},
        {"op": "retire", "id": "a2"},
        {"op": "retire", "id": "a3"},
        {"op": "add", "text": "We laugh.", "review_date": ""},
    ]
    result = apply_draft(edited, None, ops, new_id=ids())
    assert result.agreements == (Agreement("n1", "We laugh.", None),)


def test_an_agreement_retired_twice_is_retired_once():
    ops = [{"op": "retire", "id": "a1"}, {"op": "retire", "id": "a1"}]
    assert apply_draft(CHARTER, None, ops).agreements == (CAMERAS, FEEDBACK)


def test_unknown_ops_and_empty_additions_change_nothing():
    ops = [
        {"op": "delete_everything"},
        {"op": "add", "text": "   ", "review_date": ""},
        {"op": "amend", "text": "no id"},
        {},
    ]
    assert apply_draft(CHARTER, None, ops) == CHARTER


def test_applying_a_draft_leaves_the_original_untouched():
    before = CHARTER.to_dict()
    apply_draft(CHARTER, "New.", [{"op": "retire", "id": "a1"}])
    assert CHARTER.to_dict() == before


# -- what of a room's draft still applies -------------------------------------------------

SEEN_START = {"text": START.text, "review_date": None}
SEEN_CAMERAS = {"text": CAMERAS.text, "review_date": CAMERAS.review_date}


def test_a_draft_on_the_charter_the_room_saw_applies_whole():
    ops = [
        {
            "op": "amend",
            "id": "a1",
            "text": "We start at 9.",
            "review_date": "",
            "base": SEEN_START,
        },
        {"op": "retire", "id": "a2", "text": CAMERAS.text, "base": SEEN_CAMERAS},
        {"op": "add", "text": "We laugh.", "review_date": None},
    ]
    purpose, applied, skipped = check_draft(CHARTER, "New.", ops, purpose_base=CHARTER.purpose)
    assert (purpose, applied, skipped) == ("New.", ops, [])


def test_changes_to_what_changed_or_went_meanwhile_are_not_applied():
    edited = replace(
        CHARTER,
        purpose="Edited purpose.",
        agreements=(replace(START, text="We start at 9:05."), FEEDBACK),
    )
    ops = [
        {
            "op": "amend",
            "id": "a1",
            "text": "We start at 9.",
            "review_date": "",
            "base": SEEN_START,
        },
        {"op": "retire", "id": "a2", "text": CAMERAS.text, "base": SEEN_CAMERAS},
        {"op": "add", "text": "We laugh.", "review_date": None},
    ]
    purpose, applied, skipped = check_draft(edited, "New.", ops, purpose_base=CHARTER.purpose)
    assert purpose is None
    assert applied == [ops[2]]
    assert [(s["change"], s["reason"], s["id"]) for s in skipped] == [
        ("purpose", "changed", None),
        ("amend", "changed", "a1"),
        ("retire", "removed", "a2"),
    ]
    assert skipped[0]["text"] == "New." and skipped[0]["old"] == CHARTER.purpose
    assert skipped[1]["text"] == "We start at 9." and skipped[1]["old"] == START.text
    assert skipped[2]["text"] == CAMERAS.text
    assert all(s["kind"] == "not_applied" for s in skipped)


def test_a_changed_review_date_is_a_change_meanwhile():
    edited = replace(CHARTER, agreements=(START, replace(CAMERAS, review_date=None), FEEDBACK))
    ops = [{"op": "retire", "id": "a2", "text": CAMERAS.text, "base": SEEN_CAMERAS}]
    _purpose, applied, skipped = check_draft(edited, None, ops)
    assert applied == [] and skipped[0]["reason"] == "changed"


def test_the_same_change_made_meanwhile_is_no_conflict():
    edited = replace(CHARTER, purpose="New.", agreements=(replace(START, text="We start at 9."),))
    ops = [
        {"op": "amend", "id": "a1", "text": "We start at 9.", "review_date": "", "base": SEEN_START}
    ]
    purpose, applied, skipped = check_draft(edited, "New.", ops, purpose_base=CHARTER.purpose)
    assert (purpose, applied, skipped) == ("New.", ops, [])


def test_ops_without_a_base_are_checked_only_for_their_agreement():
    edited = replace(CHARTER, agreements=(replace(START, text="Edited."), FEEDBACK))
    ops = [
        {"op": "amend", "id": "a1", "text": "We start at 9.", "review_date": ""},
        {"op": "retire", "id": "a2"},
    ]
    _purpose, applied, skipped = check_draft(edited, None, ops)
    assert applied == [ops[0]]
    assert [(s["change"], s["reason"], s["old"]) for s in skipped] == [("retire", "removed", None)]


def test_two_decisions_on_one_agreement_conflict_in_draft_order():
    ops = [
        {"op": "retire", "id": "a1", "text": START.text, "base": SEEN_START},
        {
            "op": "amend",
            "id": "a1",
            "text": "We start at 9.",
            "review_date": "",
            "base": SEEN_START,
        },
    ]
    _purpose, applied, skipped = check_draft(CHARTER, None, ops)
    assert applied == [ops[0]]
    assert skipped[0]["change"] == "amend" and skipped[0]["reason"] == "removed"


# -- moving a manual edit onto a newer version ---------------------------------------------


def test_rebasing_takes_their_sections_where_mine_are_unchanged():
    mine = replace(CHARTER, leadership="Mine.")
    theirs = replace(CHARTER, purpose="Theirs.")
    merged, changed = rebase(CHARTER, mine, theirs)
    assert merged == replace(CHARTER, purpose="Theirs.", leadership="Mine.")
    assert changed == {"purpose": "theirs", "leadership": "mine"}


def test_rebasing_keeps_mine_where_both_changed_and_says_so():
    mine = replace(CHARTER, agreements=(START,), anchors=())
    theirs = replace(CHARTER, agreements=(CAMERAS,), anchors=())
    merged, changed = rebase(CHARTER, mine, theirs)
    assert merged.agreements == (START,) and merged.anchors == ()
    assert changed == {"agreements": "both", "anchors": "same"}


def test_rebasing_an_unchanged_edit_gives_theirs():
    theirs = replace(CHARTER, purpose="Theirs.", agreements=(FEEDBACK,))
    assert rebase(CHARTER, CHARTER, theirs)[0] == theirs


@given(
    st.text(alphabet=st.sampled_from("ab c\n\t."), max_size=40),
    st.text(alphabet=st.sampled_from("ab c\n\t."), max_size=40),
)
def test_any_word_diff_gives_back_both_texts(old, new):
    runs = word_diff(old, new)
    assert rejoin(runs, "equal", "delete") == old
    assert rejoin(runs, "equal", "insert") == new
