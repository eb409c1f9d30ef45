"""The words and Markdown texts of generated postmortems (bench/generate.py)."""

import random
from collections.abc import Callable

from bench.shape import TEAMS
from models import (
    ImpactKind,
    ReviewAction,
)

SYSTEMS = [
    "triage-model",
    "ingest-api",
    "dicom-router",
    "billing-service",
    "report-builder",
    "label-store",
    "feature-pipeline",
    "inference-gateway",
    "auth-service",
    "export-worker",
    "annotation-ui",
    "metrics-collector",
    "model-registry",
    "study-scheduler",
    "notification-service",
    "search-index",
    "calibration-job",
    "client-portal",
]
FAILURES = """
returned wrong probabilities
dropped studies silently
timed out under load
served a stale model
double-billed a client
lost annotations
rejected valid uploads
mislabelled a batch
ran out of disk
leaked memory
skipped the nightly export
rounded scores to integers
mixed up two clients' configs
stopped sending alerts
sent reports to the wrong client
scored every class alike
""".strip().splitlines()
TRIGGERS = """
a config change
a dependency upgrade
a schema migration
a new client onboarding
a certificate expiry
a traffic spike
a data format change upstream
a manual override
a failed deploy
a cloud provider outage
a cron change
a retraining run
a threshold tweak
a library's new default
""".strip().splitlines()
DETECTORS = """
the on-call engineer
a client's support ticket
the drift monitor
the nightly regression test
a radiologist reviewing results
the billing dashboard
an engineer watching the production stream
the external evaluator
""".strip().splitlines()
METRICS = ["ROC-AUC", "p95 latency", "error rate", "queue depth", "positive rate", "disk usage"]
UNITS = ["minutes", "hours", "days"]
ENVIRONMENTS = ["production"] * 6 + ["staging", "research", "client on-premises"]
TAG_WORDS = [
    "config",
    "testing",
    "monitoring",
    "release",
    "data",
    "client",
    "billing",
    "latency",
    "security",
    "migration",
    "model",
    "labels",
    "dicom",
    "backup",
    "alerting",
    "ci",
    "dependencies",
    "capacity",
    "onboarding",
    "contract",
    "calibration",
    "rounding",
    "thresholds",
    "rollback",
    "documentation",
    "access",
    "storage",
    "network",
    "scheduling",
    "evaluation",
]


# --- Texts -----------------------------------------------------------------------------


def _what_happened(rng: random.Random) -> str:
    system, failure = rng.choice(SYSTEMS), rng.choice(FAILURES)
    return (
        f"After {rng.choice(TRIGGERS)}, **{system}** {failure} for about "
        f"{rng.randint(2, 72)} {rng.choice(UNITS)}. {rng.randint(10, 5000):,} studies went "
        f"through the affected path before the cause was found.\n\n"
        f"The change had passed review and the fast test suite; the slow suite was "
        f"{rng.choice(['skipped by an override', 'not run on this branch', 'blind to it'])}. "
        f"Clients saw {rng.choice(['wrong scores', 'late reports', 'errors', 'nothing at first'])}."
    )


def _analysis(rng: random.Random) -> str:
    causes = rng.sample(
        [
            "the config key `threshold` meant two different things",
            "no test compared results before and after the change",
            "the on-call rotation was one person for three weeks",
            "the contract between the ML and backend teams was never written down",
            "the data format upstream changed without notice",
            "alerts went to a channel nobody watched at night",
            "the rollback script had not been run since the last migration",
            "the test dataset no longer looked like production data",
        ],
        rng.randint(2, 4),
    )
    text = "Why it happened:\n\n" + "".join(f"- {cause}\n" for cause in causes)
    if rng.random() < 0.3:
        key = rng.choice(["bin_threshold", "score_scale", "batch_size", "timeout_s"])
        text += (
            f"\nThe setting as deployed:\n\n```yaml\n{key}: {rng.randint(1, 100)}\n"
            f"model: {rng.choice(SYSTEMS)}-v{rng.randint(1, 40)}\n```\n"
        )
    if rng.random() < 0.15:
        text += (
            "\n| check | expected | seen |\n|---|---|---|\n"
            f"| {rng.choice(METRICS)} | {rng.randint(80, 99)} | {rng.randint(20, 79)} |\n"
        )
    return text


def _detection(rng: random.Random) -> str:
    return (
        f"Found by {rng.choice(DETECTORS)} {rng.randint(1, 96)} {rng.choice(UNITS)} after it "
        f"started, when the {rng.choice(METRICS)} moved out of its usual range."
    )


def _response(rng: random.Random) -> str:
    steps = [
        "Paged the owning team.",
        f"Rolled `{rng.choice(SYSTEMS)}` back to the previous release.",
        "Told the affected clients what we knew and when we would know more.",
        f"Re-ran the {rng.randint(10, 2000)} affected studies.",
        "Compared the outputs with the reference set.",
        "Closed the incident after a day of normal metrics.",
    ]
    return "".join(f"{n}. {step}\n" for n, step in enumerate(rng.sample(steps, 4), 1))


def _went_well(rng: random.Random) -> str:
    points = rng.sample(
        [
            "The rollback took minutes.",
            "The client heard it from us first.",
            "Everyone knew who was in charge.",
            "Logs had everything we needed.",
            "The reference set showed the difference at once.",
        ],
        rng.randint(1, 3),
    )
    return "".join(f"- {point}\n" for point in points)


def _got_lucky(rng: random.Random) -> str:
    return (
        f"It happened on a {rng.choice(['Friday', 'holiday', 'quiet Monday'])}, when only "
        f"{rng.randint(2, 40)} studies came in; on a normal day it would have been hundreds."
    )


def _timeline(rng: random.Random) -> str:
    return rng.choice(
        [
            f"Deploy of `{rng.choice(SYSTEMS)}` v{rng.randint(1, 90)} started.",
            f"Alert on **{rng.choice(METRICS)}** fired.",
            f"{rng.choice(DETECTORS).capitalize()} raised it in the incident channel.",
            f"Rolled back to v{rng.randint(1, 90)}.",
            "Client informed by the account manager.",
            f"Re-processing of {rng.randint(10, 3000)} studies finished.",
        ]
    )


def _factor_note(rng: random.Random) -> str:
    return rng.choice(
        [
            f"The {rng.choice(SYSTEMS)} config mixed two meanings in one key.",
            "Nobody had run the slow tests for weeks.",
            f"The team had switched context {rng.randint(3, 9)} times that week.",
            "The format change upstream was announced in a mailing list nobody read.",
            "",
        ]
    )


def _lesson(rng: random.Random) -> str:
    return rng.choice(
        [
            "**Run every test on every change**; override only for a named critical fix.",
            "Name config keys so that each means one thing.",
            "Test end to end what the client receives, not what we send.",
            "Watch a release closely for a day, with a tool built for it.",
            "When internal and external metrics disagree wildly, find out why before acting.",
            f"Keep the reference set for `{rng.choice(SYSTEMS)}` current.",
        ]
    )


def _action_details(rng: random.Random) -> str:
    return (
        f"Owner to agree the scope with the {rng.choice(TEAMS)[0]} team first.\n\n"
        f"- [ ] write it\n- [ ] review it\n- [ ] turn it on for `{rng.choice(SYSTEMS)}`\n"
    )


def _guard_description(rng: random.Random) -> str:
    return (
        f"Fails when the {rng.choice(METRICS)} of `{rng.choice(SYSTEMS)}` moves more than "
        f"{rng.randint(1, 20)}% from its baseline. See the "
        f"[runbook](https://wiki.example.com/runbooks/{rng.randint(1, 400)})."
    )


RUSSIAN_SHARE = 0.3  # of the postmortems, written in Russian (titles, story, lesson)
RU_FAILURES = """
вернул неверные вероятности
молча терял исследования
не отвечал под нагрузкой
обслуживал устаревшую модель
дважды выставил счёт клиенту
потерял разметку
округлял оценки до целых
перепутал конфигурации двух клиентов
перестал отправлять оповещения
отправил отчёты не тому клиенту
""".strip().splitlines()
RU_TRIGGERS = """
изменения конфигурации
обновления зависимости
миграции схемы
подключения нового клиента
истечения сертификата
ручного переопределения
неудачного релиза
изменения порога
""".strip().splitlines()


def _what_happened_ru(rng: random.Random) -> str:
    return (
        f"После {rng.choice(RU_TRIGGERS)} сервис **{rng.choice(SYSTEMS)}** "
        f"{rng.choice(RU_FAILURES)} около {rng.randint(2, 72)} часов. Через затронутый путь "
        f"прошло {rng.randint(10, 5000)} исследований, пока не нашли причину: ошибка в "
        f"{rng.choice(['пороге бинаризации', 'контракте между командами', 'тестовых данных'])}.\n\n"
        "Медленные тесты "
        f"{rng.choice(['пропустили из-за исключения', 'не запускали', 'не видели ошибку'])}; "
        f"клиенты увидели {rng.choice(['неверные оценки', 'поздние отчёты', 'ошибки'])}."
    )


def _lesson_ru(rng: random.Random) -> str:
    return rng.choice(
        [
            "**Запускать все тесты при каждом изменении**; исключения только для срочных "
            "исправлений.",
            "Называть ключи конфигурации так, чтобы каждый значил одно.",
            "Проверять end-to-end то, что получает клиент.",
            "Следить за релизом весь день с помощью инструмента, созданного для этого "
            "(мониторинг).",
            "Когда внутренние и внешние метрики сильно расходятся, сначала выяснить почему.",
            "Не принимать больших решений в усталости.",
        ]
    )


# The texts of the incident's own sections (what happened ... where we got lucky).
SECTION_TEXTS = [
    "what_happened",
    "what_happened_ru",
    "analysis",
    "detection",
    "response",
    "went_well",
    "got_lucky",
]
FILLER = [
    "The team went through the logs of the affected hours together.",
    "Nobody on call had seen this failure before, so the runbook did not cover it.",
    "The dashboards showed the problem only in hindsight; the usual alert stayed quiet.",
    "Clients were told what we knew, what we did not know yet and when we would write again.",
    "The same path had been changed twice in the quarter before, both times without trouble.",
    "A second engineer checked every step of the fix before it went out.",
    "We kept the affected inputs aside so the fix could be tested on exactly them.",
]
FILLER_RU = [
    "Команда вместе разобрала логи за затронутые часы.",
    "Никто из дежурных раньше не видел такого сбоя, и регламент его не описывал.",
    "Графики показали проблему только задним числом; обычное оповещение молчало.",
    "Клиентам сообщили, что известно, что пока нет и когда напишем снова.",
    "Второй инженер проверил каждый шаг исправления перед выкладкой.",
]


def lengthened(rng: random.Random, text: str, chars: int, *, russian: bool = False) -> str:
    """`text` with paragraphs of two plain sentences added until it is about `chars` long."""
    sentences = FILLER_RU if russian else FILLER
    text = text.rstrip("\n")
    while len(text) < chars - 50:
        first, second = rng.sample(sentences, 2)
        text += f"\n\n{first}"
        if len(text) < chars - 50:
            text += f" {second}"
    return text + "\n"


TEXTS: dict[str, Callable[[random.Random], str]] = {
    "what_happened": _what_happened,
    "what_happened_ru": _what_happened_ru,
    "lesson_ru": _lesson_ru,
    "analysis": _analysis,
    "detection": _detection,
    "response": _response,
    "went_well": _went_well,
    "got_lucky": _got_lucky,
    "timeline": _timeline,
    "factor_note": _factor_note,
    "lesson": _lesson,
    "action": _action_details,
    "guard": _guard_description,
}
ACTION_TITLES = [
    "Add a result-unchanged test for {system}",
    "Alert on the score distribution of {system}",
    "Split the overloaded config key in {system}",
    "Write down the response contract of {system}",
    "Run the full suite before every {system} release",
    "Add a rollback runbook for {system}",
    "Check the upstream format before {system} ingests it",
]
METHOD_NOTES = [
    "Invoices of the affected month.",
    "Studies re-processed, from the job log.",
    "Estimate by the team lead; no record kept.",
    "Hours from the incident channel's timestamps.",
]
# The unit of each quantity kind and the largest likely value drawn (money: in cents).
IMPACT_UNITS = {
    ImpactKind.LOST_REVENUE: ("", 50_000_000),
    ImpactKind.DIRECT_COST: ("", 5_000_000),
    ImpactKind.ITEMS_PROCESSED_WRONGLY: ("studies", 5_000),
    ImpactKind.CUSTOMERS_AFFECTED: ("clients", 40),
    ImpactKind.TIME_UNDETECTED: ("hours", 200),
    ImpactKind.DOWNTIME: ("minutes", 600),
    ImpactKind.RELEASE_DELAY: ("days", 30),
    ImpactKind.ENGINEERING_EFFORT: ("person-days", 60),
}
REVIEW_TEXTS = {
    ReviewAction.SUBMITTED: ["Ready for review.", "Please review; the timeline is complete."],
    ReviewAction.PUBLISHED: ["Clear and blameless. Published.", "Good lessons; published."],
    ReviewAction.ARCHIVED: ["Superseded by a later postmortem.", "System retired."],
}
