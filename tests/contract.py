"""The contract's names, typed from the shared contract document, in its order.

Written out by hand (not derived from the code) so that a change to the models or to the
.proto files that strays from the contract makes a test fail.
"""

from __future__ import annotations

STATUSES = ["active", "paused", "finished", "cancelled"]
CATEGORIES = [
    "ballet",
    "business",
    "circus",
    "concert",
    "development",
    "excursion",
    "exhibition",
    "festival",
    "games",
    "health",
    "kids",
    "movie",
    "museum",
    "musical",
    "party",
    "show",
    "sport",
    "standup",
    "test",
    "theater",
    "workshop",
    "other",
]
LEGAL_TYPES = ["ru_ltd", "ru_lp", "en_ltd"]
CURRENCIES = ["USD", "EUR", "RUB", "GBP", "CNY"]

# Every field of each message, in the contract's order.
FIELDS: dict[str, list[str]] = {
    "Event": [
        "id",
        "group_id",
        "name",
        "status",
        "category",
        "start_at",
        "finish_at",
        "offset",
        "media",
        "description",
        "organizer",
        "venue",
    ],
    "Organizer": ["id", "name", "legals"],
    "Legals": ["name", "type", "inn", "ogrn", "address"],
    "Venue": ["id", "name", "address", "description", "zipcode", "city_name", "lat", "lon"],
    "Customer": ["email", "phone", "first_name", "last_name"],
    "Order": ["id", "number", "customer", "tickets"],
    "Ticket": [
        "id",
        "event_id",
        "barcode",
        "number",
        "series",
        "row",
        "seat",
        "category",
        "description",
        "price_nominal",
        "currency",
    ],
    "Refund": ["customer", "ticket_ids"],
}

# The required ones.
REQUIRED: dict[str, set[str]] = {
    "Event": {"id", "name", "status", "category", "finish_at", "offset", "organizer"},
    "Organizer": {"id", "name"},
    "Legals": set(),
    "Venue": {"id", "name"},
    "Customer": {"email", "phone"},
    "Order": {"id", "number", "customer", "tickets"},
    "Ticket": {"id", "event_id", "barcode", "category"},
    "Refund": {"customer", "ticket_ids"},
}
