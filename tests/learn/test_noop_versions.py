"""alters_behaviour: a proposal whose only news is components entering at the default weight changes nothing."""

from __future__ import annotations

from core.learn.proposal import alters_behaviour
from core.schemas.params import ConvictionGate, Gates, ParamSections

CURRENT = ParamSections(weights={"ofi": 1.2}, signal_horizons={"ofi": "5m"})


def test_components_entering_at_the_default_weight_change_nothing() -> None:
    proposed = CURRENT.model_copy(
        update={"weights": {"ofi": 1.2, "momentum": 1.0}, "signal_horizons": {"ofi": "5m", "momentum": "1h"}}
    )
    assert not alters_behaviour(CURRENT, proposed)
    assert not alters_behaviour(CURRENT, CURRENT)


def test_anything_else_does() -> None:
    assert alters_behaviour(CURRENT, CURRENT.model_copy(update={"weights": {"ofi": 1.2, "momentum": 0.8}}))
    assert alters_behaviour(CURRENT, CURRENT.model_copy(update={"weights": {"ofi": 1.1}}))
    assert alters_behaviour(CURRENT, CURRENT.model_copy(update={"signal_horizons": {"ofi": "1h"}}))
    gates = Gates(conviction=ConvictionGate(min_conviction=0.3))
    assert alters_behaviour(CURRENT, CURRENT.model_copy(update={"gates": gates}))
    entering_with_new_default = CURRENT.model_copy(update={"default_weight": 0.9, "weights": {"ofi": 1.2, "x": 0.9}})
    assert alters_behaviour(CURRENT, entering_with_new_default)
