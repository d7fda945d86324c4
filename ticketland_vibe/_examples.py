"""One example of each entity: the demo's data, the golden files' source, the README's."""

from __future__ import annotations

from typing import Any

EXAMPLE_EVENT: dict[str, Any] = {
    "id": "ev-1001",
    "group_id": "nutcracker-2027",
    "name": "Щелкунчик",
    "status": "active",
    "category": "ballet",
    "start_at": 1805126400000,
    "finish_at": 1805137200000,
    "offset": 3,
    "media": "https://images.example.com/events/ev-1001.jpg",
    "description": "Балет П. И. Чайковского в двух действиях",
    "organizer": {
        "id": "org-7",
        "name": "Театр балета",
        "legals": {
            "name": "ООО «Театр балета»",
            "type": "ru_ltd",
            "inn": "7701234560",
            "ogrn": "1027700123450",
            "address": "Москва, ул. Примерная, 1",
        },
    },
    "venue": {
        "id": "ven-3",
        "name": "Большой зал",
        "address": "Театральная пл., 1",
        "zipcode": "125009",
        "city_name": "Москва",
        "lat": 55.7601,
        "lon": 37.6186,
    },
}

EXAMPLE_CUSTOMER: dict[str, Any] = {
    "email": "anna.petrova@example.com",
    "phone": "+79167654321",
    "first_name": "Анна",
    "last_name": "Петрова",
}

EXAMPLE_ORDER: dict[str, Any] = {
    "id": "ord-5001",
    "number": "TL-2027-000123",
    "customer": EXAMPLE_CUSTOMER,
    "tickets": [
        {
            "id": "tk-1",
            "event_id": "ev-1001",
            "barcode": "4601234567890",
            "number": "000123",
            "series": "АБ",
            "row": "5",
            "seat": "12",
            "category": "Партер",
            "price_nominal": 350000,
            "currency": "RUB",
        },
        {
            "id": "tk-2",
            "event_id": "ev-1001",
            "barcode": "4601234567891",
            "row": "5",
            "seat": "13",
            "category": "Партер",
            "price_nominal": 350000,
            "currency": "RUB",
        },
    ],
}

EXAMPLE_REFUND_ID = "ref-9001"

EXAMPLE_REFUND: dict[str, Any] = {"customer": EXAMPLE_CUSTOMER, "ticket_ids": ["tk-2"]}
