"""Param documents store floats rounded to PARAM_DIGITS decimals, whatever the learners computed."""

from __future__ import annotations

from core.schemas.params import PARAM_DIGITS, Allocation, ParamSections
from core.services import bots, params
from core.services.context import ServiceContext


async def test_a_committed_document_carries_no_float_noise(ctx: ServiceContext) -> None:
    await bots.create_bot(ctx, bots.CLI_PRINCIPAL, "alpha", None, None)
    noisy = ParamSections(
        weights={"ofi": 0.40409799999999996, "momentum": 1 / 3},
        allocation=Allocation(symbols={"BTCUSDT": 0.1 + 0.2, "ETHUSDT": 1 - (0.1 + 0.2)}),
    )
    async with ctx.sessions.begin() as session:
        await params.commit_version(ctx, session, "alpha", noisy, source="manual", cycle_id=None, now_ms=ctx.clock())
    current = await params.get_current_params(ctx, bots.CLI_PRINCIPAL, "alpha")
    assert current.document["weights"] == {"ofi": 0.404098, "momentum": 0.333333}
    assert current.document["allocation"]["symbols"] == {"BTCUSDT": 0.3, "ETHUSDT": 0.7}
    assert b"0.40409799999999996" not in current.body and b"0.30000000000000004" not in current.body
    assert PARAM_DIGITS == 6  # the stated precision (README, DESIGN section 7)
