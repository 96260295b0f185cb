"""The fixed account the simulator serves: Viber templates and Service IDs.

Deterministic on purpose: screenshots and UI snapshots are taken against this data.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

DEMO_CUST_SPACE_ID = "cams-demo-shop"
"""The demo account's CustSpaceId (its channel instance), required by ListChatappMessage and
ListViberServiceMessage."""
DEMO_SERVICE_ID = "2000001"
"""The active Viber Service ID of the demo account, usable as ``From``."""
DEMO_SERVICE_NAME = "Demo Shop"
INACTIVE_SERVICE_ID = "2000002"
"""A Service ID that exists but is not active: sending from it is refused."""

ORDER_SHIPPED = "9f0c2a4e6b8d4c1a8e3f5a7b9c1d3e50"
"""Approved, en + ru, a URL button; variables ``name``, ``order_id``."""
SPRING_SALE = "2b4d6f8a0c1e4a3b9d5f7a1c3e5b7d91"
"""Approved, en + ru, an IMAGE header and a URL button; variables ``name``, ``discount``, ``end_date``."""
APPOINTMENT_REMINDER = "5c7e9a1b3d5f4e2c8a0b2d4f6a8c0e12"
"""Approved, en only, ``{{name}}``-style placeholders; variables ``name``, ``date``, ``time``."""
LOYALTY_POINTS = "7e9a1c3e5a7b4d6f0b2d4f6a8c0e2a33"
"""Still being reviewed (``auditing``): listed, but sending it is refused."""
BLACK_FRIDAY = "0d2f4a6c8e0a4b5d7f9b1d3f5a7c9e44"
"""Rejected (``fail``, with a Reason): listed, but sending it is refused."""

UTILITY = "UTILITY"
MARKETING = "MARKETING"
"""Viber template categories, as the SDK lists them (UTILITY, MARKETING, AUTHENTICATION)."""

_PLACEHOLDER = re.compile(r"\$\(\s*([A-Za-z0-9_.-]+)\s*\)|\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


def placeholders(text: str | None) -> list[str]:
    """Variable names in ``text``, in order of appearance, both ``$(name)`` and ``{{name}}``."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(text):
        seen.setdefault(match.group(1) or match.group(2), None)
    return list(seen)


@dataclass(frozen=True)
class Button:
    """A button of a BUTTONS component."""

    type: str
    text: str
    url: str | None = None
    url_type: str = "static"
    """``static`` or ``dynamic`` (the Url holds a variable)."""

    def to_wire(self) -> dict[str, Any]:
        """The button as GetChatappTemplateDetail returns it."""
        data: dict[str, Any] = {"Type": self.type, "Text": self.text}
        if self.url is not None:
            data["Url"] = self.url
            data["UrlType"] = self.url_type
        return data


@dataclass(frozen=True)
class Component:
    """A HEADER (media), BODY or BUTTONS component: a Viber template has no FOOTER,
    CAROUSEL or LIMITED_TIME_OFFER, and at most one button, of type URL."""

    type: str
    text: str | None = None
    format: str | None = None
    url: str | None = None
    caption: str | None = None
    buttons: tuple[Button, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        """The component as GetChatappTemplateDetail returns it (absent fields left out)."""
        data: dict[str, Any] = {"Type": self.type}
        for key, value in (
            ("Format", self.format),
            ("Text", self.text),
            ("Url", self.url),
            ("Caption", self.caption),
        ):
            if value is not None:
                data[key] = value
        if self.buttons:
            data["Buttons"] = [button.to_wire() for button in self.buttons]
        return data

    def texts(self) -> list[str]:
        """Every text of the component that may hold placeholders."""
        found = [t for t in (self.text, self.url, self.caption) if t]
        found.extend(b.url for b in self.buttons if b.url)
        found.extend(b.text for b in self.buttons)
        return found


@dataclass(frozen=True)
class Template:
    """One language of a Viber template."""

    code: str
    name: str
    language: str
    category: str
    audit_status: str
    components: tuple[Component, ...]
    example: dict[str, str] = field(default_factory=dict)
    last_update_time: str = "2025-01-06 09:30:00"
    """When it last changed, UTC; ListChatappTemplate reports it in milliseconds."""
    reason: str | None = None

    @property
    def last_update_ms(self) -> int:
        """LastUpdateTime as the service sends it: milliseconds since the epoch."""
        return calendar.timegm(time.strptime(self.last_update_time, "%Y-%m-%d %H:%M:%S")) * 1000

    @property
    def approved(self) -> bool:
        """Whether messages may be sent with this template."""
        return self.audit_status == "pass"

    @cached_property
    def variables(self) -> tuple[str, ...]:
        """Every variable a send must give a value for: placeholders, then Example keys."""
        names: dict[str, None] = {}
        for component in self.components:
            for text in component.texts():
                for name in placeholders(text):
                    names.setdefault(name, None)
        for name in self.example:
            names.setdefault(name, None)
        return tuple(names)

    def summary(self) -> dict[str, Any]:
        """The row ListChatappTemplate returns."""
        row: dict[str, Any] = {
            "TemplateCode": self.code,
            "TemplateName": self.name,
            "Language": self.language,
            "AuditStatus": self.audit_status,
            "Category": self.category,
            "TemplateType": "VIBER",
            "LastUpdateTime": self.last_update_ms,
        }
        if self.reason is not None:
            row["Reason"] = self.reason
        return row

    def detail(self) -> dict[str, Any]:
        """The ``Data`` GetChatappTemplateDetail returns."""
        data: dict[str, Any] = {
            "Name": self.name,
            "TemplateCode": self.code,
            "Language": self.language,
            "Category": self.category,
            "AuditStatus": self.audit_status,
            "TemplateType": "VIBER",
            "AllowSend": self.approved,
            "Components": [component.to_wire() for component in self.components],
            "Example": dict(self.example),
        }
        if self.reason is not None:
            data["Reason"] = self.reason
        return data


@dataclass(frozen=True)
class ViberService:
    """A Viber Service ID of the account."""

    service_id: str
    business_account_name: str
    state: str

    @property
    def active(self) -> bool:
        """Whether messages may be sent from this Service ID."""
        return self.state == "active"

    def to_wire(self) -> dict[str, Any]:
        """The row ListViberServiceMessage returns."""
        return {
            "ServiceId": self.service_id,
            "BusinessAccountName": self.business_account_name,
            "State": self.state,
        }


_TRACK_BUTTON_EN = Button("URL", "Track order", "https://shop.example.com/track")
_TRACK_BUTTON_RU = Button("URL", "Отследить заказ", "https://shop.example.com/track")
_SALE_IMAGE = "https://shop.example.com/img/spring-sale.jpg"
_SHOP_BUTTON_EN = Button("URL", "Shop now", "https://shop.example.com/sale")
_SHOP_BUTTON_RU = Button("URL", "В магазин", "https://shop.example.com/sale")

TEMPLATES: tuple[Template, ...] = (
    Template(
        code=ORDER_SHIPPED,
        name="order_shipped",
        language="en",
        category=UTILITY,
        audit_status="pass",
        components=(
            Component("BODY", text="Hi $(name), your order $(order_id) is on its way. Track it below."),
            Component("BUTTONS", buttons=(_TRACK_BUTTON_EN,)),
        ),
        example={"name": "Anna", "order_id": "A-10042"},
        last_update_time="2025-01-06 09:30:00",
    ),
    Template(
        code=ORDER_SHIPPED,
        name="order_shipped",
        language="ru",
        category=UTILITY,
        audit_status="pass",
        components=(
            Component("BODY", text="Здравствуйте, $(name)! Ваш заказ $(order_id) уже в пути."),
            Component("BUTTONS", buttons=(_TRACK_BUTTON_RU,)),
        ),
        example={"name": "Анна", "order_id": "A-10042"},
        last_update_time="2025-01-06 09:32:00",
    ),
    Template(
        code=SPRING_SALE,
        name="spring_sale",
        language="en",
        category=MARKETING,
        audit_status="pass",
        components=(
            Component("HEADER", format="IMAGE", url=_SALE_IMAGE),
            Component("BODY", text="$(name), our spring sale is on: $(discount) off everything until $(end_date)!"),
            Component("BUTTONS", buttons=(_SHOP_BUTTON_EN,)),
        ),
        example={"name": "Anna", "discount": "20%", "end_date": "31 March"},
        last_update_time="2025-02-14 16:05:00",
    ),
    Template(
        code=SPRING_SALE,
        name="spring_sale",
        language="ru",
        category=MARKETING,
        audit_status="pass",
        components=(
            Component("HEADER", format="IMAGE", url=_SALE_IMAGE),
            Component("BODY", text="$(name), весенняя распродажа: скидка $(discount) на всё до $(end_date)!"),
            Component("BUTTONS", buttons=(_SHOP_BUTTON_RU,)),
        ),
        example={"name": "Анна", "discount": "20%", "end_date": "31 марта"},
        last_update_time="2025-02-14 16:07:00",
    ),
    Template(
        code=APPOINTMENT_REMINDER,
        name="appointment_reminder",
        language="en",
        category=UTILITY,
        audit_status="pass",
        components=(
            Component("BODY", text="Reminder: {{name}}, your appointment is on {{date}} at {{time}}."),
        ),
        example={"name": "Anna", "date": "12 May", "time": "10:30"},
        last_update_time="2025-03-03 11:00:00",
    ),
    Template(
        code=LOYALTY_POINTS,
        name="loyalty_points",
        language="en",
        category=MARKETING,
        audit_status="auditing",
        components=(
            Component("BODY", text="$(name), you have $(points) loyalty points waiting for you."),
        ),
        example={"name": "Anna", "points": "1200"},
        last_update_time="2025-03-20 08:15:00",
    ),
    Template(
        code=BLACK_FRIDAY,
        name="black_friday",
        language="en",
        category=MARKETING,
        audit_status="fail",
        components=(
            Component("BODY", text="$(name), EVERYTHING FREE* this Friday only!!!"),
        ),
        example={"name": "Anna"},
        last_update_time="2024-11-20 13:45:00",
        reason="The template contains misleading promotional wording.",
    ),
)

SERVICES: tuple[ViberService, ...] = (
    ViberService(DEMO_SERVICE_ID, DEMO_SERVICE_NAME, "active"),
    ViberService(INACTIVE_SERVICE_ID, "Demo Shop (old)", "inactive"),
)


def find_template(code: str, language: str) -> Template | None:
    """The template of this code in this language, if the account has it."""
    return next((t for t in TEMPLATES if t.code == code and t.language == language), None)


def find_template_by_name(name: str, language: str) -> Template | None:
    """The template of this name in this language, if the account has it."""
    return next((t for t in TEMPLATES if t.name == name and t.language == language), None)


def template_languages(code: str) -> list[str]:
    """The languages a template code exists in (empty when the code is unknown)."""
    return [t.language for t in TEMPLATES if t.code == code]


def find_service(service_id: str) -> ViberService | None:
    """The Service ID of the account with this id, if any."""
    return next((s for s in SERVICES if s.service_id == service_id), None)
