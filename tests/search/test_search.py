"""Search: stemming in Russian and English, one corpus giving the same results on SQLite and
PostgreSQL (the same expectations run on both), ranking, snippets, filters and visibility."""

from datetime import date

import pytest
from sqlalchemy import func, select

from models import (
    ActionType,
    GuardKind,
    IncidentStatus,
    LessonGroup,
    Role,
    SearchDocument,
    Severity,
)
from postmortems.incidents.parts import ActionItemValues, LessonValues, save_part
from postmortems.incidents.service import IncidentFilters
from postmortems.search import service
from postmortems.search.service import search
from postmortems.search.text import parse_query, stem, stemmed_text
from tests.conftest import make_user, sign_in
from tests.factories import make_guard, make_incident, make_team, utc

PUBLISHED = IncidentStatus.PUBLISHED

# A shared corpus: each query's expected titles hold on both databases.
CORPUS = {
    "Scores rounded to integers": "The backend rounded the model's probability to 1–100.",
    "Threshold meant two things": "The config key `bin_threshold` was changed for the mask.",
    "Ошибка в пороге бинаризации": "Модель вернула ошибки на 1500 снимках.",
    "Оценка внешнего эксперта": "Ёлка и елка: ошибку нашли через полгода.",
    "Evaluator scored every class alike": "External ROC-AUC 0.5 for six of eight pathologies.",
}
EXPECTED = {
    "rounding": {"Scores rounded to integers"},
    "ROUNDED": {"Scores rounded to integers"},
    "ошибку": {"Ошибка в пороге бинаризации", "Оценка внешнего эксперта"},
    "ошибки": {"Ошибка в пороге бинаризации", "Оценка внешнего эксперта"},
    "ёлка": {"Оценка внешнего эксперта"},
    "ЕЛКУ": {"Оценка внешнего эксперта"},
    "threshold": {"Threshold meant two things"},
    "bin_threshold": {"Threshold meant two things"},
    "model probability": {"Scores rounded to integers"},
    "model mask": set(),
    "модель снимки": {"Ошибка в пороге бинаризации"},
    "pathology": {"Evaluator scored every class alike"},
    "roc auc": {"Evaluator scored every class alike"},
}


def titles(results) -> set[str]:
    return {str(hit.title).replace("<mark>", "").replace("</mark>", "") for hit in results.hits}


@pytest.fixture
def corpus(db):
    for title, text in CORPUS.items():
        make_incident(title, what_happened_md=text, status=PUBLISHED)
    db.commit()


@pytest.mark.parametrize("query", EXPECTED)
def test_the_shared_corpus_gives_the_expected_postmortems(db, corpus, admin, query):
    # Completed words (a trailing space): no prefix matching, the stems alone decide.
    assert titles(search(admin, query + " ")) == EXPECTED[query]


def test_stems_fold_case_and_yo_and_pick_the_stemmer_by_script():
    assert stem("ошибку") == stem("ошибка") == stem("ошибки") == stem("ОШИБКИ")
    assert stem("rounding") == stem("rounded") == stem("Rounds")
    assert stem("ёлка") == stem("елка")
    assert stem("café") == stem("cafe")
    assert stem("йод") != stem("иод")  # й is a letter of its own, not an accented и
    assert stemmed_text("foo_bar 42") == "foo bar 42"


def test_the_last_word_matches_as_a_prefix_while_typing(db, corpus, admin):
    assert titles(search(admin, "бинариз")) == {"Ошибка в пороге бинаризации"}
    assert titles(search(admin, "бинариз ")) == set()
    assert parse_query("ab").prefix_last is False  # too short to be worth a prefix scan


def test_a_title_match_ranks_above_a_body_match(db, admin):
    make_incident("Disk filled up", what_happened_md="Nothing about latency.", status=PUBLISHED)
    make_incident("Latency doubled", what_happened_md="Slow.", status=PUBLISHED)
    db.commit()
    results = search(admin, "latency ")
    assert [str(h.title) for h in results.hits][0] == "<mark>Latency</mark> doubled"


def test_lessons_action_items_and_guard_checks_are_found(db, admin):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    save_part(incident, LessonValues(LessonGroup.PROCESS_COMMUNICATION, "Write the contract"))
    save_part(
        incident,
        ActionItemValues("Add a calibration test", LessonGroup.TECHNICAL, ActionType.PREVENTIVE),
    )
    make_guard("Nightly calibration monitor", GuardKind.MONITOR)
    db.commit()
    kinds = {(h.kind, h.incident_key) for h in search(admin, "contract ").hits}
    assert kinds == {("lesson", incident.key)}
    kinds = {h.kind for h in search(admin, "calibration ").hits}
    assert kinds == {"action", "guard"}
    assert {h.kind for h in search(admin, "calibration ", kind="guard").hits} == {"guard"}


def test_timeline_factor_notes_and_tags_make_the_postmortem_findable(db, admin):
    from models import TimelineEvent

    incident = make_incident("Queue stalled", tags=["dicom"], status=PUBLISHED)
    incident.timeline.append(TimelineEvent(at=utc(2024, 3, 1, 11), text_md="Pager went off"))
    db.commit()
    assert {h.incident_key for h in search(admin, "pager ").hits} == {incident.key}
    assert {h.incident_key for h in search(admin, "dicom ").hits} == {incident.key}
    assert {h.incident_key for h in search(admin, incident.key).hits} == {incident.key}


def test_search_combines_with_the_list_filters(db, admin):
    team = make_team("ML", [(date(2020, 1, 1), 8)])
    a = make_incident("Model drift", severity=Severity.SEV1, team_id=team.id, status=PUBLISHED)
    make_incident("Model drift again", severity=Severity.SEV3, status=PUBLISHED)
    make_incident("Model drift 2021", utc(2021, 5, 1), severity=Severity.SEV1, status=PUBLISHED)
    make_guard("Model drift monitor")
    db.commit()
    assert len(search(admin, "drift ").hits) == 4
    by_severity = search(admin, "drift ", IncidentFilters(severity=Severity.SEV1))
    assert {h.incident_key for h in by_severity.hits} == {a.key, "PM-2021-001"}
    assert {
        h.incident_key for h in search(admin, "drift ", IncidentFilters(team_id=team.id)).hits
    } == {a.key}
    assert len(search(admin, "drift ", IncidentFilters(year=2021)).hits) == 1


@pytest.mark.parametrize("few_chosen", [0, 8000])
def test_a_filter_gives_the_same_results_whichever_way_it_is_checked(
    db, admin, monkeypatch, few_chosen
):
    """SQLite checks a narrow filter's matches against its documents' ids, a broad one's
    against its incidents' ids; both give the same results, visibility included."""
    monkeypatch.setattr(service, "FEW_CHOSEN", few_chosen)
    reader = make_user(Role.READER)
    shown = make_incident("Queue stalled", severity=Severity.SEV1, status=PUBLISHED)
    save_part(shown, LessonValues(LessonGroup.TECHNICAL, "Watch the queue depth"))
    hidden = make_incident("Queue stalled quietly", severity=Severity.SEV1, is_restricted=True)
    make_incident("Queue slow", severity=Severity.SEV3, status=PUBLISHED)
    imported = make_incident("Queue lost elsewhere", severity=Severity.SEV1, status=PUBLISHED)
    imported.source_collection, imported.external_id = "icco", "queue-1"
    db.commit()
    sev1 = IncidentFilters(severity=Severity.SEV1)

    def found(viewer, filters):
        return {(h.kind, h.incident_key) for h in search(viewer, "queue ", filters).hits}

    assert found(reader, sev1) == {("incident", shown.key), ("lesson", shown.key)}
    assert found(admin, sev1) == found(reader, sev1) | {("incident", hidden.key)}
    assert search(reader, "queue ", sev1).total == 2  # the postmortem and its lesson
    external = IncidentFilters(severity=Severity.SEV1, external=True)
    assert {h.incident_key for h in search(admin, "queue ", external).hits} == {imported.key}


def test_restricted_postmortems_and_their_parts_never_reach_those_who_may_not_see_them(db, admin):
    reader = make_user(Role.READER)
    secret = make_incident("Secret outage", status=PUBLISHED, is_restricted=True)
    save_part(secret, LessonValues(LessonGroup.TECHNICAL, "Secret outage lesson"))
    save_part(
        secret, ActionItemValues("Secret outage fix", LessonGroup.TECHNICAL, ActionType.CORRECTIVE)
    )
    make_incident("Secret outage draft", status=IncidentStatus.DRAFT)
    make_incident("Public outage", status=PUBLISHED)
    db.commit()
    assert titles(search(reader, "outage ")) == {"Public outage"}
    assert len(search(admin, "outage ").hits) == 5
    assert search(reader, "outage ").total == 1
    assert search(reader, "secret ").hits == []


def test_a_restricted_postmortem_is_found_by_its_team(db):
    team = make_team("ML", [(date(2020, 1, 1), 8)])
    member = make_user(Role.READER, team_id=team.id)
    make_incident("Team only", status=PUBLISHED, is_restricted=True, team_id=team.id)
    db.commit()
    assert titles(search(member, "team only")) == {"Team only"}


def test_pages_of_results_and_a_capped_count(db, admin):
    for n in range(25):
        make_incident(f"Backup failed {n}", status=PUBLISHED)
    db.commit()
    first, second = search(admin, "backup ", page=1), search(admin, "backup ", page=2)
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (25, 2, 20, 5)
    keys = [h.incident_key for h in first.hits + second.hits]
    assert len(set(keys)) == 25
    assert search(admin, "backup ", page=99).page == 2


def test_the_search_page_and_its_json_show_the_same_results(db, client, corpus):
    page = client.get("/search?q=ошибку").get_data(as_text=True)
    data = client.get("/search.json?q=ошибку").get_json()
    assert data["total"] == 2
    assert {r["kind"] for r in data["results"]} == {"incident"}
    for result in data["results"]:
        assert result["incident_key"] in page
        assert result["snippet_html"] in page
    assert "<mark>ошибку</mark>" in page


def test_the_search_page_takes_the_list_filters(db, client):
    make_incident("Disk full", severity=Severity.SEV1, status=PUBLISHED)
    make_incident("Disk slow", severity=Severity.SEV4, status=PUBLISHED)
    db.commit()
    html = client.get("/search?q=disk&severity=SEV1").get_data(as_text=True)
    assert "<mark>Disk</mark> full" in html
    assert "Disk</mark> slow" not in html
    bad = client.get("/search?q=disk&year=1")
    assert bad.status_code == 400
    assert client.get("/search.json?q=disk&year=1").status_code == 400


def test_every_page_has_the_search_box(db, client):
    html = client.get("/incidents/").get_data(as_text=True)
    assert 'action="/search"' in html and 'name="q"' in html


def test_a_reader_searching_through_the_page_sees_no_restricted_title(app, db):
    reader = make_user(Role.READER)
    make_incident("Hidden secret", status=PUBLISHED, is_restricted=True)
    db.commit()
    client = sign_in(app.test_client(), reader)
    assert "Hidden" not in client.get("/search?q=hidden").get_data(as_text=True)
    assert client.get("/search.json?q=hidden").get_json()["results"] == []


def test_snippets_are_escaped_before_matches_are_marked(db, client):
    hostile = 'Model <script>alert("x")</script> <b onmouseover=alert(1)>model</b> &amp;'
    make_incident("<img src=x onerror=alert(1)> model", what_happened_md=hostile, status=PUBLISHED)
    db.commit()
    for url in ("/search?q=model", "/search?q=script", "/search?q=alert+img"):
        html = client.get(url).get_data(as_text=True)
        body = html.split('<ol class="results">', 1)[1].split("</ol>", 1)[0]
        assert "<script" not in body and "<img" not in body and "<b " not in body
        assert "&lt;" in body  # the title's markup, escaped
    data = client.get("/search.json?q=script").get_json()
    assert "<script" not in data["results"][0]["snippet_html"]
    # The snippet is the text as read: the sanitiser left no script in the section.
    assert data["results"][0]["snippet_html"].startswith("Model model")
    title = client.get("/search.json?q=img").get_json()["results"][0]["title_html"]
    assert title.startswith("&lt;<mark>img</mark> src=x")


def test_the_index_holds_one_row_per_searchable_thing(db):
    incident = make_incident("Queue stalled", status=PUBLISHED)
    save_part(incident, LessonValues(LessonGroup.TECHNICAL, "Watch queues"))
    make_guard("Queue monitor")
    db.commit()
    kinds = sorted(db.scalars(select(SearchDocument.kind)))
    assert kinds == ["guard", "incident", "lesson"]
    assert db.scalar(select(func.count()).select_from(SearchDocument)) == 3


def test_snippets_show_the_text_as_read_not_its_markdown(db, client):
    """Issue 20: no asterisks, backticks, table pipes or link syntax in a result's words."""
    written = (
        "The **threshold** moved in `config.yaml`.\n\n"
        "| key | value |\n|---|---|\n| threshold | 0.5 |\n\n"
        "See [the runbook](https://example.com/runbook) and _fix_ it."
    )
    make_incident("Masks broke", what_happened_md=written, status=PUBLISHED)
    make_guard("Threshold check").description_md = "Fails when the **threshold** changes."
    db.commit()
    results = client.get("/search.json?q=threshold").get_json()["results"]
    snippets = {r["kind"]: r["snippet_html"] for r in results}
    incident = snippets["incident"]
    assert "The <mark>threshold</mark> moved in config.yaml." in incident
    for markup in ("**", "`", "|", "---", "](", "_fix_"):
        assert markup not in incident, markup
    assert "the runbook" in incident and "example.com" not in incident
    assert "Fails when the <mark>threshold</mark> changes." in snippets["guard"]
