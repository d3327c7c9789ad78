"""The GraphQL documents of the shop's actions (:mod:`bot.integrations.shopify_actions`).

Each is fixed text with variables, checked against the pinned Admin API schema by
tests/integrations/test_shopify_schema.py. The operation comes first in each document.
"""

_MONEY = "shopMoney { amount currencyCode }"
_ADDRESS = """
fragment HelpdeskAddress on MailingAddress {
  name
  firstName
  lastName
  address1
  address2
  city
  provinceCode
  zip
  countryCodeV2
  phone
}
"""

ORDER = (
    f"""
query HelpdeskActionableOrder($id: ID!) {{
  order(id: $id) {{
    id
    name
    currencyCode
    displayFinancialStatus
    displayFulfillmentStatus
    cancelledAt
    customer {{ id defaultEmailAddress {{ emailAddress }} }}
    lineItems(first: 100) {{
      nodes {{
        id
        title
        sku
        quantity
        refundableQuantity
        originalUnitPriceSet {{ {_MONEY} }}
      }}
    }}
    shippingAddress {{ ...HelpdeskAddress }}
    totalShippingPriceSet {{ {_MONEY} }}
    totalRefundedShippingSet {{ {_MONEY} }}
    netPaymentSet {{ {_MONEY} }}
    transactions(first: 50) {{ id gateway kind status amountSet {{ {_MONEY} }} }}
    refunds(first: 50) {{ id createdAt note totalRefundedSet {{ {_MONEY} }} }}
  }}
}}
"""
    + _ADDRESS
)

# What restocking a line needs to know: unfulfilled units are cancelled, fulfilled ones returned.
LINE_FULFILMENT = """
query HelpdeskLineFulfilment($id: ID!) {
  order(id: $id) { lineItems(first: 100) { nodes { id unfulfilledQuantity } } }
}
"""

SUGGESTED_REFUND = f"""
query HelpdeskSuggestedRefund($id: ID!, $lines: [RefundLineItemInput!], $shipping: Boolean) {{
  order(id: $id) {{
    suggestedRefund(refundLineItems: $lines, refundShipping: $shipping) {{
      amountSet {{ {_MONEY} }}
      subtotalSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      shipping {{ amountSet {{ {_MONEY} }} }}
      suggestedTransactions {{
        gateway
        amountSet {{ {_MONEY} }}
        parentTransaction {{ id kind gateway }}
      }}
    }}
  }}
}}
"""

REFUND = f"""
mutation HelpdeskRefund($input: RefundInput!, $key: String!) {{
  refundCreate(input: $input) @idempotent(key: $key) {{
    refund {{ id createdAt note totalRefundedSet {{ {_MONEY} }} }}
    userErrors {{ field message }}
  }}
}}
"""

CANCEL = """
mutation HelpdeskCancel(
  $orderId: ID!
  $reason: OrderCancelReason!
  $refund: Boolean!
  $restock: Boolean!
  $notify: Boolean!
  $note: String
) {
  orderCancel(
    orderId: $orderId
    reason: $reason
    refundMethod: { originalPaymentMethodsRefund: $refund }
    restock: $restock
    notifyCustomer: $notify
    staffNote: $note
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

JOB = """
query HelpdeskJob($id: ID!) {
  job(id: $id) { id done }
}
"""

CHANGE_ADDRESS = (
    """
mutation HelpdeskChangeAddress($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id shippingAddress { ...HelpdeskAddress } }
    userErrors { field message }
  }
}
"""
    + _ADDRESS
)

RESHIP_SOURCE = f"""
query HelpdeskReshipSource($id: ID!) {{
  order(id: $id) {{
    id
    name
    email
    customer {{ id }}
    lineItems(first: 100) {{
      nodes {{ id title sku variant {{ id }} originalUnitPriceSet {{ {_MONEY} }} }}
    }}
  }}
}}
"""

_DRAFT = "id tags order { id name }"

RESHIP_DRAFT = f"""
mutation HelpdeskReshipDraft($input: DraftOrderInput!) {{
  draftOrderCreate(input: $input) {{
    draftOrder {{ {_DRAFT} }}
    userErrors {{ field message }}
  }}
}}
"""

COMPLETE_DRAFT = f"""
mutation HelpdeskCompleteDraft($id: ID!) {{
  draftOrderComplete(id: $id) {{
    draftOrder {{ {_DRAFT} }}
    userErrors {{ field message }}
  }}
}}
"""

DRAFTS_TAGGED = f"""
query HelpdeskDraftsTagged($query: String!) {{
  draftOrders(first: 10, query: $query) {{ nodes {{ {_DRAFT} }} }}
}}
"""

DISCOUNT = """
mutation HelpdeskDiscount($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
"""

DISCOUNT_BY_CODE = """
query HelpdeskDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}
"""
