"""Sandbox credentials: the only values the sandbox accepts. Documented in docs/sandbox.md."""

from __future__ import annotations

HUBSPOT_TOKEN = "sandbox-hubspot-token"
HARVEST_TOKEN = "sandbox-harvest-token"
HARVEST_ACCOUNT_ID = "100001"
XERO_TOKEN = "sandbox-xero-token"
XERO_TENANT_ID = "7d0c3e5a-0000-4000-8000-000000000001"

# Environment variable that turns the rate limiters on for `serve_forever`.
RATE_LIMITS_ENV = "TAKTGEBER_SANDBOX_RATE_LIMITS"
