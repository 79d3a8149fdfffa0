"""Payments and their lines, the payment state machine, refunds, receipt numbers, idempotency."""
