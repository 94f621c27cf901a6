"""Sellers' webhooks: endpoints a seller registers for kinds of its orders' events, and the
signed, ordered, retried deliveries to them (README, "Webhooks")."""
