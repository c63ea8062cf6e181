"""Option values checked without pydantic. Typer checks each value with a pydantic TypeAdapter
built for its parameter, and importing pydantic to build them is a large part of every
command's start. The kinds of value agentcost's options take (text, numbers, paths, choices,
lists of these, a parser's) are checked here by typer's own rules instead; anything else (an
odd value, a value these rules refuse, so that the message is typer's) goes to typer's
TypeAdapter. Should typer's internals change, its own checks are used throughout."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typer._click import Context, Parameter
    from typer.models import ParameterInfo

# Numbers pydantic and Python read alike; anything else is read by pydantic, as typer would.
PLAIN_INT = re.compile(r"[0-9]+")
PLAIN_FLOAT = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class _NotPlain(Exception):
    """A value left to typer's own checks."""


def without_pydantic(params: Iterable[Parameter]) -> None:
    """Give each of a command's parameters the checks below, unless it has its own already."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_choice, coerce_cli_path  # noqa: F401 (_leaf's)
    except ImportError:  # another typer: its own checks
        return

    class PlainValue(RuntimeParam):
        """A parameter's value checked here, or by typer's TypeAdapter when it must be."""

        def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
            try:
                return _coerced(self.annotation, self.parameter_info, value, param, ctx)
            except _NotPlain:
                return build_runtime_param(param.type_descriptor)._coerce_value(
                    value, param=param, ctx=ctx)

    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if (getattr(param, "_runtime_param", False) is None and descriptor is not None
                and descriptor.file_annotation is None):
            try:
                plain = PlainValue(parameter_info=descriptor.parameter_info,
                                   annotation=descriptor.annotation)
            except TypeError:  # another typer's RuntimeParam: its own checks
                return
            param._runtime_param = plain  # type: ignore[attr-defined]


def _coerced(annotation: Any, info: ParameterInfo, value: Any, param: Any, ctx: Context) -> Any:
    if getattr(annotation, "__origin__", None) is list:
        (item_type,) = annotation.__args__
        items = value if isinstance(value, list | tuple) else [value]
        return [_leaf(item_type, info, item, param, ctx) for item in items]
    return _leaf(annotation, info, value, param, ctx)


def _leaf(annotation: Any, info: ParameterInfo, value: Any, param: Any, ctx: Context) -> Any:
    """One value, as typer's TypeAdapter for `annotation` gives it (typer/_adapters.py)."""
    from typer._param_types import coerce_cli_choice, coerce_cli_path

    if info.parser is not None:
        try:
            return info.parser(value)
        except Exception:  # its message, as typer gives it
            raise _NotPlain from None
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return coerce_cli_choice(value, choices=list(annotation),
                                     case_sensitive=info.case_sensitive, ctx=ctx)
        except ValueError:
            raise _NotPlain from None
    if annotation is str and isinstance(value, str):
        return value
    constrained = info.min is not None or info.max is not None or info.clamp
    if annotation is int and not constrained:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and PLAIN_INT.fullmatch(value):
            return int(value)
    if annotation is float and not constrained:
        if isinstance(value, float):
            return value
        if isinstance(value, str) and PLAIN_FLOAT.fullmatch(value):
            return float(value)
    if annotation is Path and not info.path_type and isinstance(value, Path | str) and value:
        return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    raise _NotPlain
