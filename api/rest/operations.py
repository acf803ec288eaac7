"""What the OpenAPI document says about each operation: its id, who may call it, a description, the
errors it can answer and an example. One table, keyed by the route's endpoint name, so a route file
stays a thin adapter and the whole contract is reviewed in one place.

Every route must have an entry: api/rest/spec.py refuses to build the document otherwise, so an
undocumented route fails the tests the moment it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from api.rest import examples as ex
from core.services.params import SECTIONS

Role = Literal["public", "bot", "admin"]
"""``x-edgeloop-role``: public = no key; bot = the bot's own key or an admin key; admin = an admin key."""


@dataclass(frozen=True)
class Op:
    id: str
    role: Role
    description: str
    example: Any = None
    """Example of the success response body (None: the operation answers without a body)."""
    request_example: Any = None
    conflict: str | None = None
    """When the operation answers 409, and why."""
    json_body: bool = False
    """Reads a JSON body: may also answer 400 (not JSON) and 415 (not a JSON content type)."""
    etag: bool = False
    """A param endpoint: answers with an ETag, 304 to If-None-Match, and long-polls with ?wait=."""
    forbidden: str | None = None
    """When a key that may call it at all still gets 403 (admin-only actions on a bot's own path)."""
    extra_errors: tuple[int, ...] = ()
    request_schema: str | None = None
    """Component documenting a body the route reads itself (events, merge patch) rather than through a model."""
    response_schema: str | None = None
    """Component of the success response, where the route returns a plain dict."""


_ADMIN_403 = "A bot key asked for an admin-only action on its own bot (`admin_required`)."
_PAGING = " Paged: `?limit=` (1-500, default 50) and `?cursor=` (the previous page's `next_cursor`)."
_REPORT = (
    " Computed by the latest succeeded comprehensive cycle (`cycle_id`, `as_of` say which); 404 "
    "`no_report` before the first one." + _PAGING
)


def _section_op(name: str) -> Op:
    words = name.split("-")
    return Op(
        "get" + "".join(w.title() for w in words),
        "bot",
        f"The `{'`, `'.join(SECTIONS[name])}` part of the current param document, with its `version`. Caching "
        "as for `getParams`: `ETag` is the version, `If-None-Match` answers 304, `?wait=` long-polls.",
        ex.section(name),
        etag=True,
    )


OPERATIONS: dict[str, Op] = {
    "healthz": Op("getLiveness", "public", "Liveness: answers without touching any dependency.", ex.HEALTHZ),
    "readyz": Op(
        "getReadiness",
        "public",
        "Readiness: 200 when the database (and Redis, if configured) answer; 503 `dependency_unavailable` naming "
        "the failing one otherwise. Point a load balancer's health check here.",
        ex.READYZ,
    ),
    "metrics": Op(
        "getMetrics",
        "public",
        "Prometheus metrics in the text exposition format. Public unless `EDGELOOP_METRICS_PUBLIC=false`, "
        "which requires an admin key (401/403 otherwise).",
        ex.METRICS,
        extra_errors=(401, 403),
    ),
    "get_status": Op(
        "getStatus",
        "bot",
        "Service version, uptime, queue backend and worker heartbeat, and per bot its health level, last cycles, "
        "next scheduled runs and event counts. An admin key sees every bot; a bot key its own.",
        ex.STATUS,
    ),
    "create_bot": Op(
        "createBot",
        "admin",
        "Create a bot with version 1 of its params (the defaults) and its first bot key. The key (`api_key`) is "
        "shown once; only its hash is stored. `config` is a partial LearningConfig: omitted fields take their "
        "defaults.",
        ex.BOT_CREATED,
        request_example=ex.BOT_CREATE,
        conflict="A bot with this id already exists (`bot_exists`).",
        json_body=True,
        forbidden="A bot key cannot create bots (`admin_required`).",
    ),
    "list_bots": Op(
        "listBots",
        "bot",
        "Bots with their config: an admin key sees all, a bot key its own." + _PAGING,
        {"items": [ex.BOT_READ], "next_cursor": None},
    ),
    "get_bot": Op("getBot", "bot", "One bot with its whole learning config (defaults filled in).", ex.BOT_READ),
    "patch_config": Op(
        "patchConfig",
        "admin",
        "Change the learning config with a JSON merge patch (RFC 7396): objects merge, `null` returns a field to "
        "its default. Answers the whole new config; a bad field is a 422 naming it (`config.min_t`).",
        ex.CONFIG,
        request_example=ex.CONFIG_PATCH,
        json_body=True,
        request_schema="LearningConfigPatch",
        response_schema="LearningConfig",
        forbidden=_ADMIN_403,
    ),
    "create_key": Op(
        "createBotKey",
        "admin",
        "Another key for the bot, for rotation: create it, deploy it, then revoke the old one. Shown once.",
        ex.KEY_CREATED,
        forbidden=_ADMIN_403,
    ),
    "revoke_key": Op(
        "revokeBotKey",
        "admin",
        "Revoke one of the bot's keys; it stops working at once.",
        forbidden=_ADMIN_403,
    ),
    "post_events": Op(
        "postEvents",
        "bot",
        'Ingest a batch of signals, trades and price marks, as `{"events": [...]}` (application/json) or one '
        "event per line (application/x-ndjson). The batch is atomic: one invalid event is a 422 listing every "
        "bad event by `index` and `loc`, and nothing is stored. An event already stored (same `event_id`; for "
        "marks the same symbol and `ts`) is counted as a duplicate, not an error. Limits (configurable): "
        "10,000 events or 8 MiB per request (413).",
        ex.INGESTED,
        request_example={"events": ex.EVENTS},
        json_body=True,
        request_schema="EventBatch",
        extra_errors=(413,),
    ),
    "get_params": Op(
        "getParams",
        "bot",
        "The current param document. `ETag` is its version: send it back as `If-None-Match` to get 304 while it "
        "is current, and add `?wait=N` to long-poll up to N seconds for the next version (set the client's read "
        "timeout above N).",
        ex.PARAMS,
        etag=True,
    ),
    **{f"get_{name.replace('-', '_')}": _section_op(name) for name in SECTIONS},
    "list_versions": Op(
        "listParamVersions", "bot", "Past versions of the param document, newest first." + _PAGING, ex.VERSIONS
    ),
    "get_version": Op("getParamVersion", "bot", "One past version of the param document, as it was served.", ex.PARAMS),
    "diff": Op("diffParamVersions", "bot", "The changes (dotted path, old, new) between two versions.", ex.DIFF),
    "rollback": Op(
        "rollbackParams",
        "admin",
        "Make a new version that copies an old version's sections (`source: rollback`); the history is kept.",
        ex.PARAMS | {"version": 4, "source": "rollback", "cycle_id": None},
        request_example=ex.ROLLBACK,
        json_body=True,
        conflict="The bot's version moved on while the rollback was written (`stale_proposal`); retry.",
        forbidden=_ADMIN_403,
    ),
    "trigger_cycle": Op(
        "createCycle",
        "bot",
        "Queue a learning cycle; cycles of one bot run one after another in the order queued. Poll "
        "`getCycle` for its outcome. A bot key may queue dry runs of its own bot only (403 otherwise); "
        "503 `queue_unavailable` when the job queue is down (nothing is queued).",
        ex.CYCLE_QUEUED,
        request_example=ex.CYCLE_CREATE,
        json_body=True,
        forbidden="A bot key asked for a cycle that is not a dry run (`admin_required`).",
    ),
    "list_cycles": Op("listCycles", "bot", "The bot's cycles, newest first." + _PAGING, ex.CYCLES),
    "get_cycle": Op(
        "getCycle",
        "bot",
        "One cycle: status, what it read, the changes it proposed with reasons, and the version it made.",
        ex.CYCLE_READ,
    ),
    "apply_cycle": Op(
        "applyCycle",
        "admin",
        "Apply a dry run's or an apprentice-mode cycle's proposal as the next version.",
        ex.PARAMS,
        conflict="The cycle is not finished, was already applied, proposed nothing, or the version moved on "
        "since it was computed (`stale_proposal`).",
        forbidden=_ADMIN_403,
    ),
    "get_health": Op(
        "getHealth",
        "bot",
        "Is the learning loop fed, resolving, learning and running? `level` sums it up; each problem has a "
        "stable `code` and a sentence saying what to do.",
        ex.HEALTH,
    ),
    "signals_report": Op(
        "getSignalsReport",
        "bot",
        "Per component and horizon: outcomes, EV in bps, hit rate, "
        "t-statistic (Newey-West) and the current weight." + _REPORT,
        ex.SIGNALS_REPORT,
    ),
    "gates_report": Op(
        "getGatesReport",
        "bot",
        "Per gate: signals blocked, and the counterfactual PnL of what it blocked (saved vs missed)." + _REPORT,
        ex.GATES_REPORT,
    ),
    "combos_report": Op(
        "getCombosReport",
        "bot",
        "Per symbol and direction: trades, win rate with its Wilson "
        "interval, net PnL, and whether it is blocked." + _REPORT,
        ex.COMBOS_REPORT,
    ),
    "missed_report": Op(
        "getMissedReport", "bot", "The blocked signals that would have paid most." + _REPORT, ex.MISSED_REPORT
    ),
    "rules_report": Op(
        "getRulesReport",
        "bot",
        "The daily rules' candidates (conjunctions of up to 2 conditions) as the last comprehensive cycle "
        "tested them: n, EV after fees, t, p, whether each is a rule of the document, and why not." + _REPORT,
        ex.RULES_REPORT,
    ),
    "slices_report": Op(
        "getSlicesReport",
        "bot",
        "Per component and slice (symbol x direction, strategy): outcomes, EV in bps and its t, the EV "
        "shrunk toward the component's pooled EV (empirical Bayes: small slices show mostly the pool), and "
        "`flagged` where the slice differs from the rest of the component with significance held across "
        "all slices (Holm)." + _REPORT,
        ex.SLICES_REPORT,
    ),
    "correlation_report": Op(
        "getCorrelationReport",
        "bot",
        "Per pair of components: how many signals carry both, the correlation of their scores, and of "
        "their aligned returns at the evaluation horizon. Pairs above `redundancy_threshold` are checked "
        "for redundancy by the weights." + _REPORT,
        ex.CORRELATION_REPORT,
    ),
    # Routes of branches merged in parallel (admin keys, activations): ready for them when they land.
    "list_admin_keys": Op(
        "listAdminKeys",
        "admin",
        "Admin keys by id, revoked ones included (`revoked_at`). Admin keys are created with "
        "`edgeloop keys create --admin`." + _PAGING,
        {"items": [ex.ADMIN_KEY], "next_cursor": None},
        forbidden="A bot key cannot manage admin keys (`admin_required`).",
    ),
    "revoke_admin_key": Op(
        "revokeAdminKey",
        "admin",
        "Revoke an admin key: every call made with it, including open streams and long-polls, ends within 1 s.",
        forbidden="A bot key cannot manage admin keys (`admin_required`).",
    ),
    "report_activation": Op(
        "reportActivation",
        "bot",
        "Report the param version this key runs now. The header `Edgeloop-Active-Version: N` on any request "
        "does the same without a call of its own.",
        ex.ACTIVATION,
        request_example={"version": 3},
        json_body=True,
    ),
    "list_activations": Op(
        "listActivations",
        "bot",
        "Which version each key reported running, and when; newest first." + _PAGING,
        {"items": [ex.ACTIVATION], "next_cursor": None},
    ),
    "list_audit": Op(
        "listAudit",
        "bot",
        "The bot's append-only audit log, newest first: cycles, applies, "
        "rollbacks, config and key changes, with who (`actor`) and when." + _PAGING,
        ex.AUDIT,
    ),
}

TAGS: list[dict[str, str]] = [
    {"name": "system", "description": "Liveness, readiness, metrics and the service status."},
    {"name": "bots", "description": "Bots, their learning config (LearningConfig) and their keys."},
    {"name": "events", "description": "Signals, closed trades and price marks a bot sends; learning reads them."},
    {
        "name": "params",
        "description": "The param document bots fetch (ETag, 304, long-poll), its sections, "
        "versions, diffs and rollback.",
    },
    {"name": "cycles", "description": "Learning cycles: queue, follow, and apply proposals."},
    {"name": "learning", "description": "Learning health and the reports behind each learned value."},
    {"name": "audit", "description": "Who changed what, when."},
    {"name": "admin", "description": "Admin keys: list and revoke."},
]
