"""How the fake Shopify reads a GraphQL request, with graphql-core's parser.

:func:`read_request` picks the operation (by ``operationName`` when there are several) and
its root fields, resolves arguments and directives against the variables, and refuses a
string literal anywhere in an argument (the helpdesk must pass strings as variables).
:func:`project` answers exactly the selection from a node the fake built: a dict whose
values are plain values or callables taking the field's arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    Visitor,
    parse,
    value_from_ast_untyped,
    visit,
)
from graphql.pyutils import Undefined

Resolver = Callable[[dict[str, Any]], Any]


class BadRequest(Exception):
    """A document the fake cannot or will not answer: a 400 with this message."""


@dataclass(frozen=True)
class RootField:
    name: str  # e.g. "refundCreate"
    key: str  # where its answer goes: the alias, else the name
    arguments: dict[str, Any]
    directives: dict[str, dict[str, Any]]  # e.g. {"idempotent": {"key": "hd-1"}}
    node: FieldNode


@dataclass(frozen=True)
class Request:
    kind: str  # "query" or "mutation"
    fields: tuple[RootField, ...]
    variables: dict[str, Any]
    fragments: dict[str, FragmentDefinitionNode]

    def arguments(self, node: FieldNode | DirectiveNode) -> dict[str, Any]:
        return _arguments(node.arguments, self.variables)

    def nested(self, root: RootField, name: str) -> dict[str, Any] | None:
        """The arguments of the first field ``name`` anywhere under ``root``; None if absent."""
        for field in self._fields_below(root.node.selection_set):
            if field.name.value == name:
                return self.arguments(field)
        return None

    def selected(self, selection: SelectionSetNode, typename: str | None) -> Iterator[FieldNode]:
        """The fields of one selection, through fragments that apply to ``typename``."""
        for item in selection.selections:
            if isinstance(item, FieldNode):
                yield item
                continue
            if isinstance(item, FragmentSpreadNode):
                fragment = self.fragments.get(item.name.value)
                if fragment is None:
                    raise BadRequest(f"no fragment {item.name.value}")
                condition, inner = fragment.type_condition, fragment.selection_set
            elif isinstance(item, InlineFragmentNode):
                condition, inner = item.type_condition, item.selection_set
            else:  # pragma: no cover - graphql-core knows no other selection
                continue
            wanted = condition.name.value if condition else None
            if typename is None or wanted is None or wanted == typename:
                yield from self.selected(inner, typename)

    def _fields_below(self, selection: SelectionSetNode | None) -> Iterator[FieldNode]:
        if selection is None:
            return
        for field in self.selected(selection, None):
            yield field
            yield from self._fields_below(field.selection_set)


def read_request(query: str, operation_name: str | None, variables: dict[str, Any]) -> Request:
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        raise BadRequest(f"syntax error: {error.message}") from None
    operation = _operation(document, operation_name)
    _refuse_string_literals(document)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fields = []
    for item in operation.selection_set.selections:
        if not isinstance(item, FieldNode):
            raise BadRequest("fake_shopify wants plain root fields, not fragments, at the root")
        fields.append(
            RootField(
                name=item.name.value,
                key=item.alias.value if item.alias else item.name.value,
                arguments=_arguments(item.arguments, variables),
                directives={
                    d.name.value: _arguments(d.arguments, variables) for d in item.directives or ()
                },
                node=item,
            )
        )
    return Request(operation.operation.value, tuple(fields), variables, fragments)


def project(request: Request, value: Any, selection: SelectionSetNode | None) -> Any:
    """``value`` cut down to ``selection``, calling resolvers with their field's arguments."""
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [project(request, item, selection) for item in value]
    answer: dict[str, Any] = {}
    for field in request.selected(selection, value.get("__typename")):
        name = field.name.value
        key = field.alias.value if field.alias else name
        if name == "__typename":
            answer[key] = value.get("__typename")
            continue
        if name not in value:
            raise BadRequest(f"fake_shopify does not answer the field {name}")
        raw = value[name]
        if callable(raw):
            raw = raw(request.arguments(field))
        projected = project(request, raw, field.selection_set)
        if isinstance(answer.get(key), dict) and isinstance(projected, dict):
            answer[key] = {**answer[key], **projected}  # the same field selected twice
        else:
            answer[key] = projected
    return answer


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        operations = [o for o in operations if o.name and o.name.value == name]
    if len(operations) != 1:
        raise BadRequest("name one operation of the document in operationName")
    return operations[0]


class _StringLiterals(Visitor):
    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        raise BadRequest(f"a string literal ({node.value[:40]!r}): pass strings as variables")


def _refuse_string_literals(document: DocumentNode) -> None:
    """Strings can only be literals of arguments (or variables' defaults): refuse them all."""
    visit(document, _StringLiterals())


def _arguments(nodes: tuple[ArgumentNode, ...] | None, variables: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for argument in nodes or ():
        values[argument.name.value] = _defined(value_from_ast_untyped(argument.value, variables))
    return values


def _defined(value: Any) -> Any:
    """The value with variables that were not given left out (objects) or None (elsewhere)."""
    if value is Undefined:
        return None
    if isinstance(value, dict):
        return {key: _defined(item) for key, item in value.items() if item is not Undefined}
    if isinstance(value, list):
        return [_defined(item) for item in value]
    return value
