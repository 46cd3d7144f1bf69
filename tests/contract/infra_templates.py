"""Contract-test helpers for infra/: the committed CloudFormation templates, parsed once.

The loader turns CloudFormation short-form tags (``!Ref``, ``!Sub``, ``!GetAtt`` ...) into their
long form, so tests compare plain dicts (``{"Ref": "LakeBucket"}``).
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"
TEMPLATE_NAMES = ("data", "pipeline", "sources")


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def _parsed(name: str) -> dict[str, Any]:
    with (INFRA / f"{name}.yaml").open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=CfnLoader)  # a SafeLoader subclass


def template(name: str) -> dict[str, Any]:
    """``infra/<name>.yaml`` as a dict with long-form intrinsics (a fresh copy per call)."""
    return copy.deepcopy(_parsed(name))


def resources_of_type(template: dict[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource for every resource of ``cfn_type`` (Fn::ForEach bodies included)."""
    found: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if logical_id.startswith("Fn::ForEach::"):
            for fragment_id, fragment in resource[2].items():
                if fragment.get("Type") == cfn_type:
                    found[fragment_id] = fragment
        elif resource.get("Type") == cfn_type:
            found[logical_id] = resource
    return found


def parameter_defaults(tpl: dict[str, Any]) -> dict[str, Any]:
    """Parameter name -> default, typed as the API wants it (Number -> int or float)."""
    values: dict[str, Any] = {}
    for name, spec in tpl.get("Parameters", {}).items():
        if "Default" not in spec:
            continue
        default = spec["Default"]
        if spec["Type"] == "Number":
            number = float(default)
            default = int(number) if number.is_integer() else number
        values[name] = default
    return values


_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Evaluates the intrinsics a test needs, with fixed values for refs, attributes and imports.

    ``refs`` maps parameter or logical ids (and pseudo parameters) to values, ``attrs`` maps
    ``"Logical.Attr"`` to values, ``imports`` maps export names to values. Mappings come from the
    template. Anything unknown raises KeyError, so a test never compares a half-resolved value.
    """

    def __init__(
        self,
        tpl: dict[str, Any],
        refs: dict[str, Any],
        attrs: dict[str, Any] | None = None,
        imports: dict[str, Any] | None = None,
    ) -> None:
        self.mappings = tpl.get("Mappings", {})
        self.conditions = tpl.get("Conditions", {})
        self.refs = {**parameter_defaults(tpl), **refs}
        self.attrs = attrs or {}
        self.imports = imports or {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.refs[arg]
            if key == "Fn::GetAtt":
                return self.attrs[".".join(arg)]
            if key == "Fn::FindInMap":
                name, top, second = self(arg)
                return self.mappings[name][top][second]
            if key == "Fn::Join":
                sep, items = arg
                return self(sep).join(str(self(i)) for i in self(items))
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self(when_true if self.condition(name) else when_false)
            if key == "Fn::ImportValue":
                return self.imports[self(arg)]
            if key == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self(arg[1]))
                names = {**self.refs, **self.attrs, **local}
                return _SUB_VAR.sub(lambda m: str(names[m.group(1)]), text).replace("${!", "${")
        return {k: self(v) for k, v in value.items()}

    def condition(self, name: str) -> bool:
        """The value of one of the template's conditions, for these refs."""
        return self._holds(self.conditions[name])

    def _holds(self, value: Any) -> bool:
        ((key, arg),) = value.items()
        if key == "Fn::Equals":
            left, right = self(arg)
            return bool(left == right)
        if key == "Fn::Not":
            return not self._holds(arg[0])
        if key == "Fn::And":
            return all(self._holds(item) for item in arg)
        if key == "Fn::Or":
            return any(self._holds(item) for item in arg)
        if key == "Condition":
            return self.condition(arg)
        raise KeyError(key)
