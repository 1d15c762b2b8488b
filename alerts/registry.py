"""The detector registry: every module in `alerts/detectors/` is a detector, found here and checked.

A detector module declares `DETECTOR = Detector(...)`: the function that evaluates a pass, the alert kinds it
raises, its settings models by `[alerts.<table>]` name, the windows its bucketed counts must fit, its place in a
pass and whether the fast path runs it too. `detectors()` lists the package with pkgutil when first asked (not at
import), imports each module and fails naming any module that does not declare the contract. `Rules` types the
`[alerts.<table>]` tables that `settings.load` keeps as written, by the detectors' models.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from pydantic import ValidationError

import alerts.detectors as package
from alerts.model import Finding
from core.errors import CivicRadarError
from settings import DEFAULT_PATH, AlertSettings, Settings, SettingsError, StrictModel, describe_errors

if TYPE_CHECKING:
    from alerts.context import Context

M = TypeVar("M", bound=StrictModel)
DetectFn = Callable[["Context"], list[Finding]]


class DetectorError(CivicRadarError):
    """A module in alerts/detectors/ does not declare the detector contract; the message names it and says what."""


class Rules:
    """The detectors' settings, typed: `rules(VolumeRule)` is `[alerts.volume]` with its defaults filled in."""

    def __init__(self, alerts: AlertSettings, path: Path = DEFAULT_PATH) -> None:
        models = rule_models()
        errors = [f"{path}: alerts.{name}: no detector has a table of that name (known: {', '.join(sorted(models))})"
                  for name in sorted(set(alerts.rules) - set(models))]
        self._by_model: dict[type[StrictModel], StrictModel] = {}
        for table, model in models.items():
            try:
                self._by_model[model] = model.model_validate(alerts.rules.get(table, {}))
            except ValidationError as e:
                errors += describe_errors(e, path, ("alerts", table))
        if errors:
            raise SettingsError("\n".join(errors))

    def __call__(self, model: type[M]) -> M:
        if model not in self._by_model:
            raise DetectorError(f"{model.__module__}.{model.__name__} is not the settings model of a registered "
                                "detector (its module in alerts/detectors/ declares it in DETECTOR.rules)")
        return cast(M, self._by_model[model])


def _no_windows(rules: Rules) -> tuple[int, ...]:
    return ()


@dataclass(frozen=True)
class Detector:
    """What a module of alerts/detectors/ declares as `DETECTOR`."""

    detect: DetectFn  # every step of a pass (ctx.steps) -> findings
    kinds: tuple[str, ...]  # the alert kinds it raises
    rules: Mapping[str, type[StrictModel]]  # its settings models by [alerts.<table>] name
    order: int  # findings of one step are stored in this order (the first one opens an incident)
    windows: Callable[[Rules], tuple[int, ...]] = _no_windows  # minutes its bucketed counts add up
    fast: bool = False  # also run on each labelled batch (alerts.fastpath)
    name: str = ""  # its module's name, filled in by the registry


def check(s: Settings) -> Rules:
    """The detectors' tables of these settings, typed; a SettingsError names the file and key (engine start)."""
    return Rules(s.alerts, s.file)


@functools.cache
def detectors() -> tuple[Detector, ...]:
    """Every detector of alerts/detectors/, in pass order."""
    found = [_declared(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
    _distinct("alert kind", [(k, d.name) for d in found for k in d.kinds])
    _distinct("settings table", [(t, d.name) for d in found for t in d.rules])
    return tuple(sorted(found, key=lambda d: (d.order, d.name)))


def _declared(name: str) -> Detector:
    module = importlib.import_module(name)
    declared = getattr(module, "DETECTOR", None)
    where = f"{module.__file__} ({name})"
    if not isinstance(declared, Detector):
        raise DetectorError(f"{where} declares no DETECTOR = alerts.registry.Detector(detect, kinds, rules, order, "
                            f"...) (found {type(declared).__name__}); every module in alerts/detectors/ is a detector")
    wrong = [t for t, m in declared.rules.items() if not (isinstance(m, type) and issubclass(m, StrictModel))]
    if not declared.kinds or not callable(declared.detect) or wrong:
        raise DetectorError(f"{where}: DETECTOR needs a detect function, at least one alert kind and a StrictModel "
                            f"per settings table (not: {', '.join(wrong) or 'kinds/detect'})")
    return replace(declared, name=name.rsplit(".", 1)[-1])


def _distinct(what: str, pairs: list[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for key, owner in pairs:
        if seen.setdefault(key, owner) != owner:
            raise DetectorError(f"{what} {key!r} is declared by both alerts/detectors/{seen[key]}.py and {owner}.py")


def fast() -> tuple[Detector, ...]:
    return tuple(d for d in detectors() if d.fast)


def kinds() -> tuple[str, ...]:
    return tuple(k for d in detectors() for k in d.kinds)


def rule_models() -> dict[str, type[StrictModel]]:
    """Every [alerts.<table>] the detectors read, with its settings model."""
    return {table: model for d in detectors() for table, model in d.rules.items()}
