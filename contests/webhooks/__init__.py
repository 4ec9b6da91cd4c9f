"""Webhooks to the brands: the events (events.py), who gets them and how they are signed and
sent (delivery.py), and which URLs may receive them (addresses.py). docs/api.md, "Webhooks"."""
