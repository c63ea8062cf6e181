"""A price table that extends another: what it adds, what it replaces, what it keeps.

An entry (model or tool) named again replaces the base's entry whole, so the prices a step gets
are always those of one entry as written, never a mix of two files. Everything else of the base
is kept. A name the extending table gives a model, as its entry or an alias, is taken from the
base's aliases; an alias naming one of the base's models is refused (name that model's entry
to replace it). The extending table's tools come first, so its glob patterns are tried before
the base's; compute prices it gives replace the base's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from agentcost.pricing.yaml_nodes import YamlError

if TYPE_CHECKING:
    from agentcost.pricing.table import ModelPrice, PriceTable


def merge(base: PriceTable, own: PriceTable, *, own_per_second: bool) -> PriceTable:
    """`own` (as parsed from its file alone) on top of `base` (already merged with its own
    bases). `own_per_second`: whether `own` gives a compute price per second."""
    own_names = {*own.models, *(alias for m in own.models.values() for alias in m.aliases)}
    for model in own.models.values():
        for alias in model.aliases:
            if alias in base.models and alias not in own.models:
                raise YamlError(model.line, f"alias {alias!r} of {model.name!r} is a model of "
                                            f"the table this one extends ({base.file}); give "
                                            f"{alias!r} an entry of its own to replace it")
    models: dict[str, ModelPrice] = {}
    for name, model in base.models.items():
        if name in own.models:
            models[name] = own.models[name]
        else:
            kept = tuple(alias for alias in model.aliases if alias not in own_names)
            models[name] = model if kept == model.aliases else replace(model, aliases=kept)
    models.update({name: model for name, model in own.models.items() if name not in models})
    tools = {**own.tools, **{name: tool for name, tool in base.tools.items()
                             if name not in own.tools}}
    return replace(
        own,
        models=models,
        tools=tools,
        compute_per_second=own.compute_per_second if own_per_second else base.compute_per_second,
        compute_per_workflow={**base.compute_per_workflow, **own.compute_per_workflow},
        extends=(base.file, *base.extends),
    )
