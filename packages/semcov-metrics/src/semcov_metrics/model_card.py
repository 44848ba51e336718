"""The model card of a fairness audit: intended use, data, evaluation, limitations, caveats.

Given as a mapping, a :class:`ModelCard` or a small YAML file (:func:`load_card`); fields left
out are filled from the report and its context and marked as such (:func:`resolve_card`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from semcov_metrics._optional import require

__all__ = ["CARD_FIELDS", "CardSection", "ModelCard", "card_to_dict", "load_card", "resolve_card"]

#: The sections of a card, in the order the report shows them, with their headings.
CARD_FIELDS = {
    "intended_use": "Intended use",
    "data": "Data",
    "evaluation": "Evaluation",
    "limitations": "Limitations",
    "caveats": "Caveats",
}


@dataclass(frozen=True)
class ModelCard:
    """What the model's owner states; each field is one paragraph or a list of items.

    Example:
        >>> card = ModelCard.from_mapping({"intended_use": "Triage support", "caveats": ["a", "b"]})
        >>> card.intended_use, card.caveats, card.data
        (('Triage support',), ('a', 'b'), ())
        >>> ModelCard(limitations="one site").limitations
        ('one site',)
        >>> ModelCard.from_mapping({"intended_us": "x"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: unknown model card fields ['intended_us']; known: intended_use, data, ...
    """

    intended_use: tuple[str, ...] | str | None = ()
    data: tuple[str, ...] | str | None = ()
    evaluation: tuple[str, ...] | str | None = ()
    limitations: tuple[str, ...] | str | None = ()
    caveats: tuple[str, ...] | str | None = ()

    def __post_init__(self) -> None:
        for name in CARD_FIELDS:
            object.__setattr__(self, name, _items(name, getattr(self, name), ""))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], source: str = "") -> ModelCard:
        """A card from ``{field: text or [texts]}``; unknown fields are a ValueError naming
        them, values that are not text a TypeError naming the field."""
        where = f"{source}: " if source else ""
        unknown = sorted(str(k) for k in mapping if k not in CARD_FIELDS)
        if unknown:
            raise ValueError(
                f"{where}unknown model card fields {unknown}; known: {', '.join(CARD_FIELDS)}"
            )
        return cls(**{name: _items(name, value, source) for name, value in mapping.items()})


def _items(name: str, value: Any, source: str) -> tuple[str, ...]:
    """A field's value (text, texts or None) as a tuple of non-empty texts."""
    items = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        where = f"{source}: " if source else ""
        raise TypeError(
            f"{where}model card field {name!r} must be text or a list of texts, got {value!r}"
        )
    return tuple(v.strip() for v in items if v.strip())


def load_card(path: str | Path) -> ModelCard:
    """Read a model card from a YAML mapping of the :data:`CARD_FIELDS` (needs the ``html``
    extra for PyYAML).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not YAML, not a mapping, or unknown fields (named).
        TypeError: a field that is not text or a list of texts.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder) / "card.yaml"
        ...     _ = path.write_text("{data: MILK10k, limitations: [one hospital, 2023 only]}")
        ...     card = load_card(path)
        >>> card.data, card.limitations
        (('MILK10k',), ('one hospital', '2023 only'))
    """
    yaml = require("yaml", "reading a model card")
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        mapping = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        raise ValueError(f"{path}: not valid YAML: {problem}") from None
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise ValueError(
            f"{path}: a model card must be a YAML mapping, got {type(mapping).__name__}"
        )
    return ModelCard.from_mapping(mapping, source=str(path))


@dataclass(frozen=True)
class CardSection:
    """One section of a resolved card: its heading, its items, and whether they are defaults."""

    name: str
    heading: str
    items: tuple[str, ...]
    default: bool


def _as_card(card: Any) -> ModelCard:
    if card is None:
        return ModelCard()
    if isinstance(card, ModelCard):
        return card
    if isinstance(card, str | Path):
        return load_card(card)
    if isinstance(card, Mapping):
        return ModelCard.from_mapping(card)
    raise TypeError(
        f"card must be a ModelCard, a mapping or a YAML path, got {type(card).__name__}"
    )


def resolve_card(card: Any, defaults: Mapping[str, tuple[str, ...]]) -> list[CardSection]:
    """Every section of ``card`` (a :class:`ModelCard`, mapping, YAML path or None), with
    ``defaults[name]`` where the card leaves a section empty (marked ``default=True``).

    Example:
        >>> sections = resolve_card({"data": "MILK10k"}, {"intended_use": ("audit only",)})
        >>> [(s.name, s.items, s.default) for s in sections][:2]
        [('intended_use', ('audit only',), True), ('data', ('MILK10k',), False)]
    """
    resolved = _as_card(card)
    sections = []
    for item in fields(ModelCard):
        stated = getattr(resolved, item.name)
        items = stated or tuple(defaults.get(item.name, ("Not stated.",)))
        sections.append(CardSection(item.name, CARD_FIELDS[item.name], items, not stated))
    return sections


def card_to_dict(sections: list[CardSection]) -> dict[str, Any]:
    """The ``model_card`` entry of ``report.json``: ``{field: {"text": [...], "default": bool}}``.

    Example:
        >>> card_to_dict(resolve_card({"data": "MILK10k"}, {}))["data"]
        {'text': ['MILK10k'], 'default': False}
    """
    return {s.name: {"text": list(s.items), "default": s.default} for s in sections}
