"""A small bot on real prices: EURUSD hourly bars replayed through a momentum rule, run on edgeloop's params.

Per bar it posts a price mark and a signal; the signal is scored with the served weights, passed through
the served gates and blocked combos, sized with the served multipliers and allocation, and held for the
served hold time; each closed position is posted as a trade. The ParamWatcher reports the version the bot
runs (Edgeloop-Active-Version on every poll) and the client writes it into every signal and trade.

    python examples/replay_bot.py --url http://127.0.0.1:8000 --bot demo --key <bot key> [--csv bars.csv]

Without --csv it replays the 5,000 EURUSD hourly bars shipped with the `backtesting` package; a CSV needs a
time column (first column, or one named time/date/datetime) and a `Close` column. Event times are the bars'
own (2017-2018): edgeloop learns from a backfill exactly as from live data.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edgeloop_client import EdgeloopClient, Params, ParamWatcher

SYMBOL = "EURUSD"
STRATEGY = "momentum"
BASE_QUANTITY = 10_000.0  # units of EUR per full-size position
FEE_BPS = 0.5  # per side
log = logging.getLogger("replay_bot")


@dataclass
class Position:
    direction: str
    opened_at: int
    entry: float
    quantity: float
    close_after_bar: int
    conviction: float
    signal_id: str


def load_bars(path: str | None, limit: int | None) -> list[tuple[int, float]]:
    """(epoch ms, close) per bar, oldest first."""
    if path is None:
        from backtesting.test import EURUSD  # real EURUSD hourly bars, 2017-2018

        bars = [(int(ts.tz_localize(UTC).timestamp() * 1000), float(c)) for ts, c in EURUSD["Close"].items()]
    else:
        with Path(path).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            raise SystemExit(f"{path}: no rows")
        names = list(rows[0])
        time_col = next((n for n in names if n.lower() in ("time", "date", "datetime", "timestamp")), names[0])
        close_col = next(n for n in names if n.lower() == "close")
        bars = []
        for row in rows:
            when = datetime.fromisoformat(row[time_col])
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            bars.append((int(when.timestamp() * 1000), float(row[close_col])))
    return bars[:limit] if limit else bars


def components(closes: deque[float]) -> dict[str, float]:
    """The bot's own views, in bps-like units: >0 bullish, <0 bearish."""
    c = list(closes)
    mean = sum(c) / len(c)
    sd = math.sqrt(sum((x - mean) ** 2 for x in c) / len(c)) or 1e-9
    return {
        "momentum_6h": (c[-1] / c[-7] - 1) * 1e4,
        "momentum_24h": (c[-1] / c[0] - 1) * 1e4,
        "reversion_24h": -(c[-1] - mean) / sd,
    }


def run(args: argparse.Namespace) -> dict[str, float]:
    state = Path(args.state_dir)
    watcher = ParamWatcher(
        args.url,
        args.bot,
        args.key,
        cache_path=state / f"params-{args.bot}.json",
        wait_s=5,
        on_update=lambda p: log.info("running params version %d (%s)", p.version, p.source),
        on_stale=lambda p: log.warning("params version %d are stale; trading on at reduced size", p.version),
    ).start()
    if not watcher.wait_ready(args.ready_timeout):
        raise SystemExit("no params: the service is unreachable and there is no cached document")
    watcher.report_activation()  # at once, besides the header each poll carries
    totals = {"bars": 0.0, "signals": 0.0, "blocked": 0.0, "trades": 0.0, "pnl": 0.0}
    with EdgeloopClient(
        args.url, args.bot, args.key, spool=state / f"spool-{args.bot}.sqlite3", versions=watcher
    ) as client:
        closes: deque[float] = deque(maxlen=25)
        position: Position | None = None
        for i, (ts, close) in enumerate(load_bars(args.csv, args.bars)):
            totals["bars"] += 1
            client.price(symbol=SYMBOL, price=close, ts=ts)
            closes.append(close)
            params: Params = watcher.params
            if position is not None and i >= position.close_after_bar:
                totals["pnl"] += close_position(client, position, ts, close)
                totals["trades"] += 1
                position = None
            if len(closes) < closes.maxlen or position is not None:
                continue
            views = components(closes)
            score = params.score(views)
            direction = "long" if score > 0 else "short"
            conviction = min(1.0, abs(score) / 40.0)
            edge_bps = abs(score) / 4.0
            blocked_by = params.gate(
                symbol=SYMBOL, direction=direction, conviction=conviction, expected_edge_bps=edge_bps
            )
            signal_id = client.signal(
                symbol=SYMBOL,
                direction=direction,
                price=close,
                conviction=round(conviction, 4),
                components={k: round(v, 6) for k, v in views.items()},
                decision="blocked" if blocked_by else "executed",
                blocked_by=blocked_by,
                strategy=STRATEGY,
                expected_edge_bps=round(edge_bps, 4),
                ts=ts,
            )
            totals["signals"] += 1
            if blocked_by:
                totals["blocked"] += 1
                continue
            size = params.size_multiplier(conviction) * (params.allocation(strategy=STRATEGY) or 1.0)
            if params.is_stale():
                size *= 0.5  # this bot's choice: old learning, smaller bets
            hold_bars = max(1, math.ceil(params.hold_time(STRATEGY).target_s / 3600))
            position = Position(direction, ts, close, BASE_QUANTITY * size, i + hold_bars, conviction, signal_id)
        delivered = client.flush(args.flush_timeout)
        totals["delivered"] = float(delivered)
        totals["version"] = float(watcher.active_version or 0)
    watcher.close()
    return totals


def close_position(client: EdgeloopClient, pos: Position, ts: int, price: float) -> float:
    sign = 1.0 if pos.direction == "long" else -1.0
    fees = (pos.entry + price) * pos.quantity * FEE_BPS / 1e4
    pnl = sign * (price - pos.entry) * pos.quantity - fees
    client.trade(
        symbol=SYMBOL,
        direction=pos.direction,
        opened_at=pos.opened_at,
        ts=ts,
        entry_price=pos.entry,
        exit_price=price,
        quantity=pos.quantity,
        pnl=round(pnl, 6),
        fees=round(fees, 6),
        strategy=STRATEGY,
        conviction=round(pos.conviction, 4),
        signal_event_id=pos.signal_id,
    )
    return pnl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--bot", required=True)
    parser.add_argument("--key", required=True, help="the bot's API key")
    parser.add_argument("--csv", help="bars to replay (default: backtesting's EURUSD hourly)")
    parser.add_argument("--bars", type=int, help="replay only the first N bars")
    parser.add_argument("--state-dir", default=".edgeloop", help="spool and params cache")
    parser.add_argument("--ready-timeout", type=float, default=10.0)
    parser.add_argument("--flush-timeout", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    totals = run(args)
    print(" ".join(f"{k}={v:g}" for k, v in totals.items()), flush=True)
    if not totals["delivered"]:
        raise SystemExit("not every event was delivered (they stay in the spool for the next run)")


if __name__ == "__main__":
    main()
