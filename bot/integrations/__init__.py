"""Clients for the outside services a ticket is enriched from (the shop's Shopify Admin API)."""
