"""Clustering never chains a household into one person; bands route doubt to review."""

from __future__ import annotations

import pandas as pd
import pytest

from golden_record.extract.canonical import CANONICAL_COLUMNS
from golden_record.matching.clustering import cluster_without_conflicts
from golden_record.matching.guard import (
    Conflicts,
    PersonalEvidence,
    PersonKeys,
    household_evidence_only,
    namesakes_in_one_system,
    namesakes_without_birth_date,
)
from golden_record.matching.inference import Thresholds, load_model
from golden_record.matching.levels import DOB_LEVELS, FORENAME_LEVELS, LevelWeights
from golden_record.matching.stage import match_records

# The packaged model, trained on a generated council: a wholly different forename weighs
# about -6 bits there, a different date of birth about -5.5.
COUNCIL = LevelWeights.of(load_model())
# Weights as a model trained on heavily mistyped data has them (FEBRL3: -2.7 and -4.0):
# wholly different forenames or dates of birth are often slips there.
SLIPS = LevelWeights(
    by_comparison={
        "first_name": (7.4, 10.7, 7.0, 6.1, 0.0, 0.0, 1.1, -2.7),
        "date_of_birth": (10.8, 3.5, 0.0, 0.0, -1.5, -4.0),
    },
    labels={"first_name": FORENAME_LEVELS, "date_of_birth": DOB_LEVELS},
)
AUTO_BITS = 4.25  # the weight of match probability 0.95


def conflict(keys: PersonKeys, a: int, b: int, weights: LevelWeights = COUNCIL) -> bool:
    return Conflicts(keys, weights)(a, b)


def cluster(records, links, cannot_link=None, weights=COUNCIL, **options):
    return cluster_without_conflicts(records, links, cannot_link, weights=weights, **options)


def _records(rows, ni_numbers=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["unique_id", "first_name", "surname", "date_of_birth", "postcode"]
    )
    frame["first_name_variants"] = frame["first_name"].map(lambda n: [n] if n is not None else None)
    frame["ni_number"] = ni_numbers or [None] * len(frame)
    # Each test record comes from its own system unless its id says 'system:record'.
    frame["source_system"] = frame["unique_id"].map(
        lambda uid: uid.split(":")[0] if ":" in uid else f"system-{uid}"
    )
    return frame


def _links(*edges) -> pd.DataFrame:
    return pd.DataFrame(edges, columns=["unique_id_l", "unique_id_r", "match_probability"])


def _together(clustering, a: str, b: str) -> bool:
    cluster = clustering.clusters.set_index("unique_id")["cluster_id"]
    return cluster[a] == cluster[b]


def test_spouses_linked_through_a_shared_record_are_not_chained():
    records = _records(
        [
            ("h1", "john", "smith", "1970-01-01", "AB1 2CD"),
            ("h2", "john", "smith", None, "AB1 2CD"),
            ("w1", "mary", "smith", "1972-05-05", "AB1 2CD"),
        ]
    )
    # A wrong high link w1–h2 would chain wife into husband under connected components.
    clustering = cluster(records, _links(("h1", "h2", 0.999), ("h2", "w1", 0.995)))
    assert _together(clustering, "h1", "h2")
    assert not _together(clustering, "h1", "w1")
    assert clustering.refused[["unique_id_l", "unique_id_r"]].values.tolist() == [["h2", "w1"]]


def test_twins_share_everything_but_forenames_and_stay_apart():
    records = _records(
        [
            ("a1", "jack", "jones", "2001-03-03", "CD3 4EF"),
            ("b1", "emily", "jones", "2001-03-03", "CD3 4EF"),
        ]
    )
    clustering = cluster(records, _links(("a1", "b1", 0.9999)))
    assert not _together(clustering, "a1", "b1")


def test_a_record_that_fits_father_and_son_joins_neither():
    records = _records(
        [
            ("father", "david", "mills", "1960-02-02", "EF5 6GH"),
            ("son", "david", "mills", "1990-07-07", "EF5 6GH"),
            ("nodob", "david", "mills", None, "EF5 6GH"),
        ]
    )
    links = _links(("father", "nodob", 0.9995), ("nodob", "son", 0.999))
    clustering = cluster(records, links)
    assert not _together(clustering, "father", "nodob")
    assert not _together(clustering, "son", "nodob")
    assert set(clustering.refused["reason"]) == {"ambiguous"}


def test_namesakes_at_one_postcode_make_undated_records_ambiguous():
    records = _records(
        [
            ("father", "david", "mills", "1960-02-02", "EF5 6GH"),
            ("son", "david", "mills", "1990-07-07", "EF5 6GH"),
            ("nodob", "david", "mills", None, "EF5 6GH"),
            ("elsewhere", "david", "mills", None, "ZZ9 9ZZ"),
        ]
    )
    assert namesakes_without_birth_date(records, COUNCIL).tolist() == [False, False, True, False]
    # Where dates of birth decades apart are often slips, they are not two people.
    assert not namesakes_without_birth_date(records, SLIPS).any()


def test_a_record_that_fits_two_conflicting_people_anywhere_joins_neither():
    # No postcode, so only the clustering itself can see the two people.
    records = _records(
        [
            ("father", "david", "mills", "1960-02-02", None),
            ("son", "david", "mills", "1990-07-07", None),
            ("nodob", "david", "mills", None, None),
        ]
    )
    links = _links(("father", "nodob", 0.9995), ("nodob", "son", 0.999))
    clustering = cluster(records, links)
    assert not _together(clustering, "father", "nodob")
    assert not _together(clustering, "son", "nodob")


def test_a_record_linked_far_more_strongly_to_one_person_stays_with_them():
    records = _records(
        [
            ("org", "oliver", "blake", "1989-12-03", None),
            ("copy", "oliver", "blake", None, None),
            ("odd", "oliver", "blake", "1934-04-04", None),
        ]
    )
    # copy–org at odds of a million to one; copy–odd at a hundred to one.
    links = _links(("org", "copy", 0.999999), ("copy", "odd", 0.99))
    clustering = cluster(records, links)
    assert _together(clustering, "org", "copy")
    assert not _together(clustering, "copy", "odd")
    assert clustering.refused["reason"].tolist() == ["conflict"]


def test_the_same_ni_number_outweighs_a_name_or_date_conflict():
    records = _records(
        [
            ("a", "abby", "toseland", "1910-08-30", None),
            ("b", "liam", "toseland", "1950-01-01", None),
            ("c", "liam", "toseland", "1950-01-01", None),
        ],
        ni_numbers=["AB123456C", "AB123456C", "AB654321C"],
    )
    keys = PersonKeys.from_records(records)
    assert not conflict(keys, 0, 1)
    assert conflict(keys, 0, 2)


def test_an_ni_number_one_keystroke_off_outweighs_a_conflict_unless_it_is_the_next_one():
    records = _records(
        [
            ("a", "liam", "laing", "1939-11-23", None),
            ("b", "liam", "laing", "1939-12-13", None),  # date mistyped twice, NI once
            ("c", "noah", "laing", "1939-11-23", None),  # a twin with the next NI number
            ("d", "liam", "laing", "1975-04-02", None),  # a son with his own number
            ("e", "laign", "liam", "1939-11-23", None),  # names swapped, one slip
            ("f", "noah", "laing", "1939-11-23", None),  # forename wrong, NI mistyped
            ("g", "liam", "laing", "1939-12-13", None),  # the next number, date mistyped
        ],
        ni_numbers=[
            "AB123456C",
            "AB123465C",
            "AB123457C",
            "PR998877A",
            None,
            "AB123486C",
            "AB123455C",
        ],
    )
    keys = PersonKeys.from_records(records)
    assert not conflict(keys, 0, 1)
    assert conflict(keys, 0, 2)
    assert conflict(keys, 0, 3)
    assert not conflict(keys, 0, 4)
    assert not conflict(keys, 0, 5)
    assert not conflict(keys, 0, 6)


def test_a_forename_like_the_other_surname_is_no_swap_one_way_round():
    records = _records(
        [
            ("a", "jane", "williams", None, None),
            ("b", "william", "williams", None, None),
            ("c", "williams", "jane", None, None),
        ]
    )
    keys = PersonKeys.from_records(records)
    assert conflict(keys, 0, 1)
    assert not conflict(keys, 0, 2)


def test_a_pair_refused_as_household_is_not_chained_through_a_third_record():
    """Father (dated, his mobile) and undated son (his own mobile) at one address, and a
    council-tax record with only the name: linked to both, it must not join them."""
    records = _records(
        [
            ("housing:father", "ronald", "griffiths", "1975-05-13", "NN6 1FG"),
            ("housing:son", "ronald", "griffiths", None, "NN6 1FG"),
            ("revenues:liable", "ronald", "griffiths", None, "NN6 1FG"),
        ]
    )
    links = _links(
        ("housing:father", "revenues:liable", 0.9998), ("housing:son", "revenues:liable", 0.9998)
    )
    refused_as_household = {frozenset(("housing:father", "housing:son"))}
    clustering = cluster(records, links, refused_as_household)
    assert not _together(clustering, "housing:father", "housing:son")
    unconstrained = cluster(records, links)
    assert _together(unconstrained, "housing:father", "housing:son")


def test_a_record_that_fits_father_and_son_joins_the_one_a_personal_detail_agrees_with():
    records = _records(
        [
            ("father", "stewart", "smith", "1966-04-17", "SG5 4SL"),
            ("son", "stewart", "smith", "1995-02-02", "SG5 4SL"),
            ("nodob", "stewart", "smith", None, "SG5 4SL"),  # the father's mobile
        ]
    )
    links = _links(("father", "nodob", 0.9999), ("nodob", "son", 0.999))
    links["agrees"] = [True, False]
    clustering = cluster(records, links)
    assert _together(clustering, "father", "nodob")
    assert not _together(clustering, "son", "nodob")
    without_agreement = cluster(records, links.drop(columns="agrees"))
    assert not _together(without_agreement, "father", "nodob")


def test_the_guard_can_be_switched_off_to_measure_it():
    records = _records(
        [
            ("a1", "jack", "jones", "2001-03-03", "CD3 4EF"),
            ("b1", "emily", "jones", "2001-03-03", "CD3 4EF"),
        ]
    )
    links = _links(("a1", "b1", 0.9999))
    assert not _together(cluster(records, links), "a1", "b1")
    assert _together(cluster(records, links, household_guard=False), "a1", "b1")


def _scored(**columns) -> pd.DataFrame:
    """Scored pairs as Splink returns them: ids, the compared values, per-comparison
    match weights (``mw_``)."""
    size = len(next(iter(columns.values())))
    base = {
        f"{c}_{side}": [None] * size
        for c in ("email", "phone", "date_of_birth")
        for side in ("l", "r")
    }
    base |= {f"mw_{c}": [0.0] * size for c in ("date_of_birth", "email", "phone", "first_name")}
    return pd.DataFrame(base | columns)


def test_namesakes_in_one_system_are_not_auto_matched():
    pairs = _scored(
        unique_id_l=["revenues:1", "revenues:1", "revenues:1"],
        unique_id_r=["revenues:2", "housing:7", "revenues:3"],
        mw_date_of_birth=[0.0, 0.0, 13.4],
    )
    evidence = PersonalEvidence.of(pairs)
    at_household = pd.Series([True] * 3)
    # 1: one system at a household, nothing personal agrees → refused.
    # 2: two systems: a resident known to both → allowed.
    # 3: one system, but the date of birth agrees: the system's own duplicate → allowed.
    refused = namesakes_in_one_system(pairs, evidence, at_household, AUTO_BITS)
    assert refused.tolist() == [True, False, False]
    # Where the data holds no households the rule costs nothing.
    nowhere = namesakes_in_one_system(pairs, evidence, pd.Series([False] * 3), AUTO_BITS)
    assert not nowhere.any()
    # A second portal account: the same email but for digits before the @ → allowed.
    second = pairs.iloc[[0]].assign(
        email_l="aevans@icloud.com", email_r="aevans24@icloud.com", mw_email=-3.4
    )
    assert namesakes_in_one_system(
        second, PersonalEvidence.of(second), pd.Series([True]), AUTO_BITS
    ).tolist() == [False]


@pytest.mark.parametrize(
    ("first_a", "variants_a", "first_b", "variants_b", "dob_a", "dob_b", "council", "slips"),
    [
        ("tom", ["thomas", "tom"], "thomas", ["thomas"], None, None, False, False),  # nickname
        ("tom", ["tom"], "tm", ["tm"], None, None, False, False),  # one letter dropped
        ("tom", ["tom"], "t", ["t"], None, None, False, False),  # initial
        ("tom", ["tom"], "tom", ["tom"], "1980-01-10", "1980-10-01", False, False),  # day/month
        ("tom", ["tom"], "tom", ["tom"], "1980-01-10", "1980-01-11", False, False),  # one digit
        ("tom", ["tom"], "mary", ["mary"], None, None, True, False),
        # Jaro-Winkler 0.87: the model's 'similar forename' level, about no evidence at all.
        ("josh", ["josh", "joshua"], "josephine", ["josephine"], None, None, False, False),
        # The model has no level for a nickname with a slip: it is a different forename.
        ("harrry", ["harrry"], "henry", ["henry"], None, None, True, False),
        ("tom", ["tom"], "tom", ["tom"], "1960-02-02", "1990-07-07", True, False),
        # Both different at once is two people even where each alone is often a slip.
        ("tom", ["tom"], "mary", ["mary"], "1960-02-02", "1990-07-07", True, True),
    ],
)
def test_what_counts_as_a_conflict_is_what_the_model_weighs_against(
    first_a, variants_a, first_b, variants_b, dob_a, dob_b, council, slips
):
    records = _records([("a", first_a, "young", dob_a, None), ("b", first_b, "young", dob_b, None)])
    records["first_name_variants"] = pd.Series([variants_a, variants_b], dtype=object)
    keys = PersonKeys.from_records(records)
    assert conflict(keys, 0, 1, COUNCIL) is council
    assert conflict(keys, 0, 1, SLIPS) is slips


def test_a_twin_in_a_council_is_a_slip_in_mistyped_data():
    """The same two records: kept apart under a council's weights, one person where the
    model learned that wholly different forenames are common slips."""
    records = _records(
        [
            ("a1", "jack", "jones", "2001-03-03", "CD3 4EF"),
            ("b1", "emily", "jones", "2001-03-03", "CD3 4EF"),
        ]
    )
    links = _links(("a1", "b1", 0.9999))
    assert not _together(cluster(records, links, weights=COUNCIL), "a1", "b1")
    assert _together(cluster(records, links, weights=SLIPS), "a1", "b1")


def test_compatible_records_form_one_cluster():
    records = _records(
        [
            ("a", "thomas", "young", "1980-01-10", None),
            ("b", "tom", "young", None, None),
            ("c", "t", "young", "1980-10-01", None),
        ]
    )
    records["first_name_variants"] = pd.Series([["thomas"], ["thomas", "tom"], ["t"]], dtype=object)
    clustering = cluster(records, _links(("a", "b", 0.999), ("b", "c", 0.999)))
    assert clustering.clusters["cluster_id"].nunique() == 1
    assert clustering.refused.empty


def test_cannot_link_pairs_are_honoured():
    records = _records([("x", "ann", "lee", None, None), ("y", "ann", "lee", None, None)])
    clustering = cluster(records, _links(("x", "y", 0.9999)), cannot_link={frozenset(("x", "y"))})
    assert not _together(clustering, "x", "y")


def test_at_a_household_the_forename_and_personal_details_must_carry_a_link():
    pairs = _scored(
        unique_id_l=["a", "b", "c", "d", "e"],
        unique_id_r=["v", "w", "x", "y", "z"],
        # exact forename; slip; exact but emails differ; exact, a landline differs; slip+dob
        mw_first_name=[8.3, 3.1, 8.3, 8.3, 3.1],
        mw_email=[0.0, 0.0, -3.4, 0.0, 0.0],
        mw_phone=[0.0, 0.0, 0.0, -2.3, 0.0],
        phone_l=[None, None, None, "+441179000000", None],
        phone_r=[None, None, None, "+441179000001", None],
        mw_date_of_birth=[0.0, 0.0, 0.0, 0.0, 13.4],
    )
    evidence = PersonalEvidence.of(pairs)
    refused = household_evidence_only(pairs, evidence, pd.Series([True] * 5), AUTO_BITS)
    # A landline is the household's, not personal evidence either way.
    assert refused.tolist() == [False, True, True, False, False]
    assert not household_evidence_only(pairs, evidence, pd.Series([False] * 5), AUTO_BITS).any()
    # Emails that differ only by digits before the @ are a second account, not a second
    # person: they weigh nothing.
    second = pairs.iloc[[2]].assign(email_l="aevans@icloud.com", email_r="aevans24@icloud.com")
    assert household_evidence_only(
        second, PersonalEvidence.of(second), pd.Series([True], index=second.index), AUTO_BITS
    ).tolist() == [False]


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="review <= auto_match"):
        Thresholds(auto_match=0.8, review=0.9)


def test_the_guard_refuses_a_model_whose_levels_it_does_not_compute():
    from golden_record.matching.levels import ModelShapeError

    model = load_model()
    for comparison in model["comparisons"]:
        if comparison["output_column_name"] == "date_of_birth":
            comparison["comparison_levels"][-2]["label_for_charts"] = "Same year"
    with pytest.raises(ModelShapeError, match="retrain it with this version"):
        LevelWeights.of(model)


def _canonical(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=list(CANONICAL_COLUMNS))
    frame["source_updated_at"] = "2026-01-01T00:00:00"
    return frame.astype("string")


HOME = {
    "address_line_1": "80 Ward Hills",
    "town": "Lloydberg",
    "postcode": "OX2R 3LF",
    "uprn": "100000480760",
}


def _neighbours(count: int = 60, couples: int = 20) -> list[dict]:
    """Other residents, so that names carry realistic term-frequency weights, and couples
    at shared addresses, so that the data holds households as a council's does."""
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(7)
    people = [
        {
            "source_system": "revenues",
            "source_record_id": f"n{i}",
            "first_name": fake.first_name(),
            "surname": fake.last_name(),
            "address_line_1": fake.street_address(),
            "postcode": fake.postcode(),
        }
        for i in range(count)
    ]
    for i in range(couples):
        home = {"address_line_1": fake.street_address(), "postcode": fake.postcode()}
        surname = fake.last_name()
        for partner, first in (("a", fake.first_name_male()), ("b", fake.first_name_female())):
            people.append(
                {
                    "source_system": "housing",
                    "source_record_id": f"c{i}{partner}",
                    "first_name": first,
                    "surname": surname,
                    "date_of_birth": fake.date_of_birth(minimum_age=20).isoformat(),
                    **home,
                }
            )
    return people


def test_titles_of_the_two_sexes_keep_a_couple_apart_where_forenames_do_not():
    """'Louise' and 'Lewis' share a variant ('louis'); at one address with one landline
    the model scores them one person. 'Mrs' beside 'Mr' says two."""
    wife = {"title": "Mrs", "first_name": "Louise", "surname": "Barnes", "phone": "01188033856"}
    husband = {"title": "Mr", "first_name": "Lewis", "surname": "Barnes", "phone": "01188033856"}
    rows = [
        {"source_system": "revenues", "source_record_id": "wife", **HOME, **wife},
        {"source_system": "waste", "source_record_id": "husband", **HOME, **husband},
        *_neighbours(),
    ]
    output = match_records(_canonical(rows))
    cluster = output.xref.set_index("source_record_id")["cluster_id"]
    assert cluster["wife"] != cluster["husband"]
    refused = output.review_pairs[output.review_pairs["reason"].str.contains("household")]
    assert set(refused["source_record_id_l"]) | set(refused["source_record_id_r"]) == {
        "wife",
        "husband",
    }

    untitled = _canonical([{**row, "title": None} for row in rows])
    cluster = match_records(untitled).xref.set_index("source_record_id")["cluster_id"]
    assert cluster["wife"] == cluster["husband"]  # what the titles prevent


def test_a_title_slip_at_a_household_goes_to_review_and_elsewhere_does_not_split():
    """'Mr' and 'Mrs' beside one forename: where people live together that is left to a
    steward; in data without households (no couples anywhere) it is a slip."""
    husband = {"first_name": "Lewis", "surname": "Barnes", "phone": "01188033856"}
    rows = [
        {"source_system": "waste", "source_record_id": "mr", "title": "Mr", **HOME, **husband},
        {"source_system": "housing", "source_record_id": "mrs", "title": "Mrs", **HOME, **husband},
    ]
    output = match_records(_canonical([*rows, *_neighbours()]))
    cluster = output.xref.set_index("source_record_id")["cluster_id"]
    assert cluster["mr"] != cluster["mrs"]
    reviewed = output.review_pairs.set_index(["source_record_id_l", "source_record_id_r"])
    assert (
        "household"
        in reviewed["reason"].iloc[reviewed.index.isin([("mr", "mrs"), ("mrs", "mr")])].iloc[0]
    )
    alone = match_records(_canonical([*rows, *_neighbours(couples=0)]))
    cluster = alone.xref.set_index("source_record_id")["cluster_id"]
    assert cluster["mr"] == cluster["mrs"]


def test_a_record_standing_for_identical_copies_is_in_their_systems_too():
    """The father's portal and council-tax records are identical, so only one is scored;
    his undated namesake son's council-tax record must still meet the one-system rule."""
    father = {
        "first_name": "Julian",
        "surname": "Poole",
        "date_of_birth": "1966-04-08",
        "email": "poole.julian1993@outlook.com",
        "phone": "07801973291",
        **HOME,
    }
    son = {"first_name": "Julian", "surname": "Poole", **HOME}
    rows = [
        {"source_system": "portal", "source_record_id": "father-portal", **father},
        {"source_system": "revenues", "source_record_id": "father-ctax", **father},
        {"source_system": "revenues", "source_record_id": "son-ctax", **son},
        *_neighbours(),
    ]
    output = match_records(_canonical(rows))
    cluster = output.xref.set_index("source_record_id")["cluster_id"]
    assert cluster["father-portal"] == cluster["father-ctax"]
    assert cluster["son-ctax"] != cluster["father-portal"]
    refused = output.review_pairs[output.review_pairs["reason"].str.contains("one system")]
    assert refused[["source_record_id_l", "source_record_id_r"]].values.tolist() == [
        ["father-portal", "son-ctax"]
    ]


def _refusals(clustering) -> set[tuple]:
    return set(clustering.refused.itertuples(index=False, name=None))


def test_a_night_answers_the_components_the_night_before_checked_as_it_did():
    records = _records(
        [
            ("h1", "john", "smith", "1970-01-01", "AB1 2CD"),
            ("h2", "john", "smith", None, "AB1 2CD"),
            ("w1", "mary", "smith", "1972-05-05", "AB1 2CD"),
            ("father", "david", "mills", "1960-02-02", None),
            ("son", "david", "mills", "1990-07-07", None),
            ("nodob", "david", "mills", None, None),
            ("a1", "ann", "lee", "1980-03-03", "CD3 4EF"),
            ("a2", "anne", "lee", "1980-03-03", "CD3 4EF"),
            ("k1", "kim", "wu", "1985-06-06", "GH7 8IJ"),
            ("k2", "kim", "wu", "1985-06-06", "GH7 8IJ"),
        ]
    )
    links = _links(
        ("h1", "h2", 0.999),
        ("h2", "w1", 0.995),
        ("father", "nodob", 0.9995),
        ("nodob", "son", 0.999),
        ("a1", "a2", 0.99),
        ("k1", "k2", 0.99),
    )
    apart = {frozenset(("k1", "k2"))}
    first = cluster(records, links, apart)
    assert first.components_kept == 0
    # Households, the ambiguous namesake and the stewards' pair: checked, and kept.
    assert first.kept.checked["contested"].sum() == 3

    # The next night the Smiths' link is scored anew; everyone else is as they were.
    tonight = links.copy()
    tonight.loc[1, "match_probability"] = 0.996
    again = cluster(records, tonight, apart, earlier=first.kept)
    fresh = cluster(records, tonight, apart)
    # The Mills, the Wus and the Lees (two forenames) are not checked again.
    assert again.components_kept == 3
    assert again.clusters.equals(fresh.clusters)
    assert _refusals(again) == _refusals(fresh)
    assert not _together(again, "son", "nodob") and not _together(again, "k1", "k2")

    # A record joining a component, or another model's weights: checked again.
    joined = pd.concat([records, _records([("h3", "jon", "smith", "1970-01-01", "AB1 2CD")])])
    more = pd.concat([links, _links(("h1", "h3", 0.999))])
    grown = cluster(joined, more, apart, earlier=first.kept)
    assert grown.clusters.equals(cluster(joined, more, apart).clusters)
    assert grown.components_kept == 3
    assert cluster(records, links, apart, SLIPS, earlier=first.kept).components_kept == 0


def test_identities_keys_are_read_only_for_those_a_conflict_is_asked_of():
    from golden_record.matching.clustering import _Conflicts

    records = _records(
        [
            ("a", "liam", "laing", "1939-11-23", None),
            ("b", "liam", "laing", "1939-11-23", None),  # a's identity again
            ("c", "noah", "laing", "1939-11-23", None),
            ("d", "liam", "laing", "1975-04-02", None),
            ("e", "jane", "smith", None, None),
            ("f", "jane", "smyth", None, None),
        ]
    )
    eager = PersonKeys.from_records(records)
    conflicts = _Conflicts(records, COUNCIL)
    identity = conflicts.of_record
    assert len(set(identity.tolist())) == 5
    assert len(conflicts._keys) == 0
    conflicts.prepare(identity[[0, 2]])
    assert len(conflicts._keys) == 2
    # Asked of identities not prepared, the keys are read then; every answer is the one
    # every record's keys give.
    for a in range(len(records)):
        for b in range(len(records)):
            if identity[a] != identity[b]:
                assert conflicts.between(identity[a], identity[b]) == conflict(eager, a, b)
    assert len(conflicts._keys) == 5
