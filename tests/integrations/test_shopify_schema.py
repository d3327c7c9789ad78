"""Every GraphQL document the helpdesk sends Shopify, validated against the Admin API schema of
the pinned version, so a field typo or a removed argument fails here rather than in a shop.

The schema is Shopify's own introspection result for 2026-10, as shipped in the npm package
``@shopify/dev-mcp`` 1.16.0 (``dist/data/admin_2026-10.json.gz``, copied unchanged to
tests/integrations/schema/). Besides the schema it carries ``offline_scopes``: the access
scope each field needs, which checks the scopes the actions ask for.
"""

from __future__ import annotations

import gzip
import importlib
import json
import pkgutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLSchema,
    NoDeprecatedCustomRule,
    OperationDefinitionNode,
    build_client_schema,
    parse,
    specified_rules,
    validate,
)

import bot.integrations
from bot.config import Settings
from bot.devtools.fake_shopify import DEFAULT_VERSION
from bot.integrations.shopify import PINNED_VERSION
from bot.integrations.shopify_actions import ACTION_SCOPES

SCHEMA_FILE = Path(__file__).parent / "schema" / f"admin_{PINNED_VERSION}.json.gz"
# The mutations behind each action, for the scopes Shopify says they need.
ACTION_MUTATIONS = {
    "refund": ("refundCreate",),
    "cancel": ("orderCancel",),
    "address": ("orderUpdate",),
    "reship": ("draftOrderCreate", "draftOrderComplete"),
    "discount": ("discountCodeBasicCreate",),
}


@cache
def introspection() -> dict[str, Any]:
    with gzip.open(SCHEMA_FILE) as file:
        return json.load(file)


@cache
def schema() -> GraphQLSchema:
    # assume_valid: Shopify's schema breaks a rule newer graphql-core checks on schemas
    # (an interface field not deprecated where an implementation's is); documents are still
    # validated in full.
    return build_client_schema(introspection()["data"], assume_valid=True)


def shopify_documents() -> dict[str, str]:
    """Every module-level string of bot/integrations/shopify*.py that is a query or mutation."""
    found = {}
    for module_info in pkgutil.iter_modules(bot.integrations.__path__):
        if not module_info.name.startswith("shopify"):
            continue
        module = importlib.import_module(f"bot.integrations.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, str) and value.lstrip().startswith(("query ", "mutation ")):
                found[f"{module_info.name}.{name}"] = value
    return found


DOCUMENTS = shopify_documents()


def test_the_schema_shipped_is_the_pinned_version_everything_defaults_to() -> None:
    assert SCHEMA_FILE.exists()
    assert Settings.model_fields["shopify_api_version"].default == PINNED_VERSION
    assert DEFAULT_VERSION == PINNED_VERSION


def test_every_document_is_found() -> None:
    operations = {
        definition.name.value
        for document in DOCUMENTS.values()
        for definition in parse(document).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name
    }
    assert {
        "HelpdeskCustomerByEmail",
        "HelpdeskOrderProof",
        "HelpdeskAccessScopes",
        "HelpdeskActionableOrder",
        "HelpdeskSuggestedRefund",
        "HelpdeskRefund",
        "HelpdeskCancel",
        "HelpdeskJob",
        "HelpdeskChangeAddress",
        "HelpdeskReshipDraft",
        "HelpdeskCompleteDraft",
        "HelpdeskDraftsTagged",
        "HelpdeskDiscount",
        "HelpdeskDiscountByCode",
    } <= operations


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_document_is_valid_against_the_admin_api_schema(name: str) -> None:
    errors = validate(schema(), parse(DOCUMENTS[name]))
    assert [error.message for error in errors] == []


@pytest.mark.parametrize("name", sorted(n for n in DOCUMENTS if "action_documents" in n))
def test_the_actions_use_no_deprecated_field_or_argument(name: str) -> None:
    rules = [*specified_rules, NoDeprecatedCustomRule]
    errors = validate(schema(), parse(DOCUMENTS[name]), rules)
    assert [error.message for error in errors] == []


def test_a_typo_or_a_removed_argument_fails_validation() -> None:
    typo = DOCUMENTS["shopify_action_documents.REFUND"].replace("totalRefundedSet", "totalRefunded")
    removed = DOCUMENTS["shopify_action_documents.CANCEL"].replace("staffNote:", "note:")
    assert validate(schema(), parse(typo))
    assert validate(schema(), parse(removed))


def test_each_action_asks_for_the_scope_shopify_requires_of_its_mutations() -> None:
    needs = {
        item["fieldName"]: set(item["offlineScopes"])
        for item in introspection()["offline_scopes"]["items"]
        if item.get("typeName") == "Mutation" and item.get("fieldName")
    }
    for action, mutations in ACTION_MUTATIONS.items():
        for mutation in mutations:
            if needs.get(mutation):  # refundCreate names none in this file
                assert ACTION_SCOPES[action] in needs[mutation], (action, mutation)
