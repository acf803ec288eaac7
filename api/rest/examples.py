"""Examples shown in the OpenAPI document, built from the models and defaults they illustrate.

Built, not typed out, where a model can make them (the param document, the config), so an example
never shows a field that no longer exists; tests/test_openapi_contract.py validates each example
against its operation's response model.
"""

from __future__ import annotations

from typing import Any

from core.schemas.config import LearningConfig
from core.schemas.params import BlockedCombo, HoldPolicy, ParamDocument, Rule, default_sections
from core.services.params import SECTIONS

BOT = "alpha-1"
CYCLE = "cyc_01HZX3Q9W8V6T5S4R3P2N1M0KJ"
NOW = "2026-01-02T03:04:05.123Z"

_sections = default_sections(LearningConfig())
_sections.weights = {"ofi": 1.2, "momentum": 0.85}
_sections.signal_horizons = {"ofi": "5m", "momentum": "1h"}
_sections.gates.conviction.min_conviction = 0.25
_sections.blocked_combos = [
    BlockedCombo(
        symbol="DOGEUSDT",
        direction="short",
        since=NOW,
        reason="win rate 31% (Wilson 95% high 0.38) over 42 trades",
        trades=42,
        win_rate=0.31,
        pnl=-118.4,
    )
]
_sections.allocation.strategies = {"momo": 0.6, "meanrev": 0.4}
_sections.hold_time.by_strategy = {"momo": HoldPolicy(target_s=600, max_s=2400)}
_sections.weights_by_regime = {"trend": {"ofi": 1.45}}
_sections.direction_routing = {"ETHUSDT": "long_only"}
_sections.rules = [
    Rule(
        id="r-5c1e0a9b3d",
        when={"direction": "long", "hour_bucket": 3},
        effect="avoid",
        stats={"n": 412.0, "n_eff": 398.2, "mean_bps": -9.8, "t": -4.6, "p": 5e-06},
        since=NOW,
        expires_at="2026-01-05T03:04:05.123Z",
    )
]

PARAMS: dict[str, Any] = ParamDocument(
    bot_id=BOT,
    version=3,
    created_at=NOW,
    expires_at="2026-01-09T03:04:05.123Z",
    source="cycle",
    cycle_id=CYCLE,
    **_sections.model_dump(),
).model_dump(mode="json")


def section(name: str) -> dict[str, Any]:
    """The example document's section ``name`` as its endpoint serves it."""
    return {"version": PARAMS["version"], **{key: PARAMS[key] for key in SECTIONS[name]}}


CONFIG: dict[str, Any] = LearningConfig().model_dump(mode="json")
CONFIG_PATCH: dict[str, Any] = {"min_t": 2.5, "auto_apply": False, "schedule": {"continuous_every": "6h"}}

BOT_READ: dict[str, Any] = {
    "id": BOT,
    "name": "Alpha momentum bot",
    "config": CONFIG,
    "created_at": "2026-01-01T00:00:00.000Z",
    "current_version": 3,
    "watermark": NOW,
}
BOT_CREATE: dict[str, Any] = {"id": BOT, "name": "Alpha momentum bot", "config": {"min_t": 2.5, "lookback": "3d"}}
BOT_CREATED: dict[str, Any] = {
    **BOT_READ,
    "current_version": 1,
    "watermark": None,
    "api_key": "el_bot_Zm9vYmFyYmF6cXV4cXV1eGNvcmdl",
    "key_id": "k_7f3a9c",
}
KEY_CREATED: dict[str, Any] = {
    "key_id": "k_91be02",
    "bot_id": BOT,
    "scope": "bot",
    "api_key": "el_bot_cXV1eGNvcmdlZm9vYmFyYmF6",
    "created_at": NOW,
}
ADMIN_KEY: dict[str, Any] = {
    "key_id": "k_0a1b2c",
    "scope": "admin",
    "bot_id": None,
    "created_at": "2026-01-01T00:00:00.000Z",
    "revoked_at": None,
}
ACTIVATION: dict[str, Any] = {"key_id": "k_7f3a9c", "version": 3, "first_seen": NOW, "last_seen": NOW}
INGESTED: dict[str, Any] = {"accepted": 4, "duplicates": 0}
EVENTS: list[dict[str, Any]] = [
    {"type": "price", "symbol": "BTCUSDT", "ts": "2026-01-02T03:04:05.000Z", "price": 43000.5},
    {
        "type": "signal",
        "event_id": "sig-1",
        "ts": "2026-01-02T03:04:05.000Z",
        "symbol": "BTCUSDT",
        "direction": "long",
        "price": 43000.5,
        "conviction": 0.72,
        "components": {"ofi": 1.3, "momentum": -0.2},
        "decision": "executed",
        "strategy": "momo",
        "expected_edge_bps": 12.0,
    },
    {
        "type": "signal",
        "event_id": "sig-2",
        "ts": 1767323100000,
        "symbol": "ETHUSDT",
        "direction": "short",
        "price": 3120.25,
        "conviction": 0.31,
        "components": {"ofi": -0.4},
        "decision": "blocked",
        "blocked_by": "fee_gate",
    },
    {
        "type": "trade",
        "event_id": "tr-1",
        "ts": 1767323345000,
        "opened_at": "2026-01-02T03:04:05.000Z",
        "symbol": "BTCUSDT",
        "direction": "long",
        "entry_price": 43000.5,
        "exit_price": 43100.0,
        "quantity": 0.1,
        "pnl": 9.1,
        "fees": 0.85,
        "strategy": "momo",
        "signal_event_id": "sig-1",
    },
]
VERSIONS: dict[str, Any] = {
    "items": [
        {"version": 3, "created_at": NOW, "source": "cycle", "cycle_id": CYCLE},
        {"version": 2, "created_at": "2026-01-01T12:00:00.000Z", "source": "rollback", "cycle_id": None},
    ],
    "next_cursor": "MQ",
}
DIFF: list[dict[str, Any]] = [
    {"path": "weights.ofi", "old": 1.0, "new": 1.2},
    {"path": "gates.conviction.min_conviction", "old": 0.0, "new": 0.25},
]
ROLLBACK: dict[str, Any] = {"version": 2}
CYCLE_CREATE: dict[str, Any] = {"kind": "continuous", "dry_run": True}
CYCLE_QUEUED: dict[str, Any] = {"cycle_id": CYCLE, "status": "queued"}
CYCLE_READ: dict[str, Any] = {
    "cycle_id": CYCLE,
    "bot_id": BOT,
    "kind": "continuous",
    "dry_run": False,
    "status": "succeeded",
    "queued_at": "2026-01-02T03:00:00.000Z",
    "started_at": "2026-01-02T03:00:01.250Z",
    "finished_at": "2026-01-02T03:00:04.900Z",
    "inputs": {"signals": 18250, "trades": 412, "outcomes": 87310},
    "changes": [
        {
            "path": "weights.ofi",
            "old": 1.0,
            "new": 1.2,
            "reason": "ofi's 5m EV is +3.1 bps (t = 4.2 over 2,310 outcomes): weight raised by the step limit",
            "stats": {"n": 2310, "ev_bps": 3.1, "t": 4.2, "horizon": "5m"},
        }
    ],
    "applied_version": 3,
    "base_version": 2,
    "error": None,
    "requested_by": "system",
}
CYCLES: dict[str, Any] = {"items": [CYCLE_READ], "next_cursor": None}
HEALTH: dict[str, Any] = {
    "level": "warn",
    "problems": [
        {
            "code": "insufficient_outcomes",
            "message": "momentum has 31 of the 50 resolved outcomes its weight needs; keep sending signals.",
            "detail": {"component": "momentum", "outcomes": 31, "required": 50},
        }
    ],
    "counts": {
        "signals": 18250,
        "trades": 412,
        "prices": 250000,
        "outcomes_resolved": 87310,
        "outcomes_pending": 420,
        "outcomes_gap": 12,
    },
    "components": [
        {"name": "ofi", "outcomes": 2310, "required": 50, "status": "learning", "weight": 1.2},
        {"name": "momentum", "outcomes": 31, "required": 50, "status": "insufficient_data", "weight": 1.0},
    ],
    "last_cycles": {
        "continuous": {"cycle_id": CYCLE, "status": "succeeded", "finished_at": "2026-01-02T03:00:04.900Z"},
        "comprehensive": None,
    },
    "next_runs": {"resolve": "2026-01-02T03:10:00.000Z", "continuous": "2026-01-02T15:00:00.000Z"},
    "evidence": {"cycle_id": CYCLE, "as_of": "2026-01-02T02:59:58.000Z"},
    "current_version": 3,
    "active_version": 3,
    "active_key_id": "k_7f3a9c",
    "active_last_seen": NOW,
}
_REPORT = {"next_cursor": None, "cycle_id": CYCLE, "as_of": "2026-01-02T02:59:58.000Z"}
SIGNALS_REPORT: dict[str, Any] = {
    "items": [
        {
            "component": "ofi",
            "horizon": "5m",
            "n": 2310,
            "ev_bps": 3.1,
            "hit_rate": 0.54,
            "t": 4.2,
            "naive_t": 6.8,
            "weight": 1.2,
        }
    ],
    **_REPORT,
}
GATES_REPORT: dict[str, Any] = {
    "items": [
        {
            "gate": "conviction_gate",
            "blocked": 820,
            "resolved": 790,
            "ev_bps": -1.4,
            "hit_rate": 0.46,
            "saved_return_bps": 2210.0,
            "missed_return_bps": 1104.0,
            "saved_pnl": 96.2,
            "missed_pnl": 48.1,
            "net_pnl": -48.1,
            "horizon": "5m",
        }
    ],
    **_REPORT,
}
COMBOS_REPORT: dict[str, Any] = {
    "items": [
        {
            "symbol": "DOGEUSDT",
            "direction": "short",
            "trades": 42,
            "win_rate": 0.31,
            "wilson_low": 0.19,
            "wilson_high": 0.46,
            "pnl": -118.4,
            "blocked": True,
        }
    ],
    **_REPORT,
}
CORRELATION_REPORT: dict[str, Any] = {
    "items": [
        {
            "component_a": "momentum",
            "component_b": "ofi",
            "n": 1830,
            "score_corr": 0.87,
            "n_returns": 1795,
            "return_corr": 0.62,
        }
    ],
    **_REPORT,
}

SLICES_REPORT: dict[str, Any] = {
    "items": [
        {
            "component": "ofi",
            "horizon": "5m",
            "slice_by": "symbol_direction",
            "symbol": "BTCUSDT",
            "direction": "long",
            "strategy": None,
            "n": 842,
            "ev_bps": 6.1,
            "t": 5.2,
            "pooled_ev_bps": 1.4,
            "shrunk_ev_bps": 5.7,
            "shrink": 0.91,
            "contrast_t": 4.4,
            "contrast_p": 1.1e-05,
            "eligible": True,
            "flagged": True,
        }
    ],
    **_REPORT,
}

RULES_REPORT: dict[str, Any] = {
    "items": [
        {
            "id": "r-5c1e0a9b3d",
            "when": {"direction": "long", "hour_bucket": 3},
            "n": 412,
            "ev_bps": -9.8,
            "t": -4.6,
            "p": 5e-06,
            "kept": True,
            "rejected_because": None,
        },
        {
            "id": "r-09f2b7c4e1",
            "when": {"weekday": 4},
            "n": 1630,
            "ev_bps": 1.1,
            "t": 0.9,
            "p": 0.37,
            "kept": False,
            "rejected_because": "not significant at false discovery rate 0.05 (p=0.37)",
        },
    ],
    **_REPORT,
}
MISSED_REPORT: dict[str, Any] = {
    "items": [
        {
            "event_id": "sig-8812",
            "symbol": "BTCUSDT",
            "direction": "long",
            "ts": "2026-01-02T01:15:00.000Z",
            "blocked_by": "fee_gate",
            "horizon": "15m",
            "would_be_return_bps": 41.5,
            "would_be_pnl": 17.9,
        }
    ],
    **_REPORT,
}
AUDIT: dict[str, Any] = {
    "items": [
        {
            "id": 42,
            "bot_id": BOT,
            "at": NOW,
            "actor": "system",
            "action": "cycle_applied",
            "detail": {"cycle_id": CYCLE, "kind": "continuous", "dry_run": False, "version": 3},
        }
    ],
    "next_cursor": None,
}
STATUS: dict[str, Any] = {
    "version": "0.1.0",
    "uptime_s": 86400.5,
    "queue": "arq",
    "worker_heartbeat_age_s": 2.1,
    "bots": [
        {
            "id": BOT,
            "health": "warn",
            "current_version": 3,
            "watermark": NOW,
            "events": {"signals": 18250, "trades": 412, "prices": 250000},
            "last_cycles": {
                "continuous": {"cycle_id": CYCLE, "status": "succeeded", "finished_at": "2026-01-02T03:00:04.900Z"}
            },
            "next_runs": {"resolve": "2026-01-02T03:10:00.000Z", "continuous": "2026-01-02T15:00:00.000Z"},
        }
    ],
}
HEALTHZ: dict[str, Any] = {"status": "ok"}
READYZ: dict[str, Any] = {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
METRICS = (
    '# HELP edgeloop_events_accepted_total Events stored.\nedgeloop_events_accepted_total{type="signal"} 18250.0\n'
)
