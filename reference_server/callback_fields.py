"""The callback fields the reference server reads and answers with, found through the document's field roles.

The server never spells a property name: a revision that moves the masked card number into `cardInfo`
only changes the pointers here, read once at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callback_core import fields
from callback_core.fields import FieldRole
from callback_core.schema_model import model_for, properties_of
from callback_core.spec import Contract
from reference_server.errors import ConfigError

VIEW_ROLE_EXTENSION = "x-field-role"


@dataclass(frozen=True, slots=True)
class CallbackNames:
    """The operator view's property names for what an attempt keeps from its first callback."""

    attempt_id: str
    psp_reference: str
    merchant_serial_number: str
    masked_card_number: str

    @classmethod
    def from_view_schema(cls, document: Mapping[str, Any], schema: str = "Attempt") -> CallbackNames:
        """The names the server's own document gives them: the properties marked `x-field-role` with a role."""
        found = document.get("components", {}).get("schemas", {}).get(schema, {})
        properties = properties_of(model_for(document).merged(found))
        by_role = {prop.get(VIEW_ROLE_EXTENSION): str(name) for name, prop in properties.items()
                   if isinstance(prop, Mapping)}
        wanted = (fields.ATTEMPT_ID, fields.PSP_REFERENCE, fields.MERCHANT_SERIAL_NUMBER, fields.MASKED_CARD_NUMBER)
        missing = [role for role in wanted if role not in by_role]
        if missing:
            raise ConfigError(f"the reference server's document marks no {schema} property with "
                              f"{VIEW_ROLE_EXTENSION}: {', '.join(missing)}")
        return cls(*(by_role[role] for role in wanted))


@dataclass(frozen=True, slots=True)
class CallbackFields:
    """Where the server finds what it keys on in a callback, and where it writes its answer's fields."""

    attempt_id: FieldRole
    psp_reference: FieldRole | None
    merchant_serial_number: FieldRole | None
    masked_card_number: FieldRole | None
    completed_redirect_url: FieldRole | None
    status: FieldRole
    error_code: FieldRole
    error_message: FieldRole
    soft_decline_redirect_url: FieldRole
    network_transaction_reference: FieldRole | None

    @classmethod
    def from_contract(cls, contract: Contract) -> CallbackFields:
        """The roles of `contract`; ConfigError naming the first role the server cannot work without."""

        def needed(role: FieldRole | None, name: str, side: str) -> FieldRole:
            if role is None:
                raise ConfigError(f"{contract.source}: the {side} has no {name!r} field (declare it in "
                                  f"{fields.ROLES_EXTENSION}); the reference server needs it")
            return role

        request, response = contract.request_role, contract.response_role
        return cls(
            attempt_id=needed(request(fields.ATTEMPT_ID), fields.ATTEMPT_ID, "request"),
            psp_reference=request(fields.PSP_REFERENCE),
            merchant_serial_number=request(fields.MERCHANT_SERIAL_NUMBER),
            masked_card_number=request(fields.MASKED_CARD_NUMBER),
            completed_redirect_url=request(fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL),
            status=needed(response(fields.STATUS), fields.STATUS, "response"),
            error_code=needed(response(fields.ERROR_CODE), fields.ERROR_CODE, "response"),
            error_message=needed(response(fields.ERROR_MESSAGE), fields.ERROR_MESSAGE, "response"),
            soft_decline_redirect_url=needed(
                response(fields.SOFT_DECLINE_REDIRECT_URL), fields.SOFT_DECLINE_REDIRECT_URL, "response"
            ),
            network_transaction_reference=response(fields.NETWORK_TRANSACTION_REFERENCE),
        )

    @property
    def attempt_name(self) -> str:
        """The attempt id's property name, as the document spells it (log keys, messages)."""
        return self.attempt_id.property_name

    @property
    def same_as_first(self) -> tuple[FieldRole, ...]:
        """What the second callback after a soft decline must repeat: the same payment and card."""
        found = (self.psp_reference, self.merchant_serial_number, self.masked_card_number)
        return tuple(role for role in found if role is not None)

    @staticmethod
    def text(body: Any, role: FieldRole | None) -> str:
        """The field's value as text; "" when the document or the body has no such field."""
        if role is None:
            return ""
        value = fields.get_at(body, role.pointer)
        return "" if value is fields.MISSING else str(value)

    @staticmethod
    def shown(role: FieldRole) -> str:
        """How a message names a field: its path in the body, e.g. cardInfo/maskedCardNumber."""
        return role.pointer.lstrip("/")

    def success(self, status: str, network_reference: str) -> dict[str, Any]:
        answer = _answer(self.status, status)
        if self.network_transaction_reference is not None:
            _put(answer, self.network_transaction_reference.pointer, network_reference)
        return answer

    def fail(self, code: str | int | None, message: str | None) -> dict[str, Any]:
        answer = _answer(self.status, "FAIL")
        _put(answer, self.error_code.pointer, code)
        _put(answer, self.error_message.pointer, message)
        return answer

    def soft_decline(self, status: str, redirect_url: str) -> dict[str, Any]:
        answer = _answer(self.status, status)
        _put(answer, self.soft_decline_redirect_url.pointer, redirect_url)
        return answer

    def status_of(self, answer: Mapping[str, Any]) -> str:
        return str(fields.get_at(answer, self.status.pointer))

    def error_code_of(self, answer: Mapping[str, Any]) -> str | None:
        code = fields.get_at(answer, self.error_code.pointer)
        return None if code is fields.MISSING or code is None else str(code)


def _answer(status_role: FieldRole, status: str) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    _put(answer, status_role.pointer, status)
    return answer


def _put(body: dict[str, Any], pointer: str, value: Any) -> None:
    # Answers are built from nothing: create the objects a nested pointer passes through.
    node = body
    parts = fields.split_pointer(pointer)
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
