"""coopledger: an event-sourced ledger of international cooperation."""
