"""Field roles: where the fields the tools act on live in a callback, as JSON pointers read from the document.

Code never spells a callback property name: it asks the `Contract` for a role ("the attempt id", "the
cryptogram") and gets a pointer. A document declares its roles in `x-field-roles`; a role it does not
declare is found by its well-known property name anywhere in the schema tree, so a revision that moves a
field (into `cardInfo`, say) is followed without edits. Card data is marked in the document with
`x-card-data: true` on the property's schema.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# The pointer functions and the property walk live in the schema model; these names are kept for callers.
from callback_core.schema_model import SchemaModel, SchemaProperty, join_pointer, split_pointer

__all__ = ["SchemaProperty", "join_pointer", "split_pointer"]

ROLES_EXTENSION = "x-field-roles"
CARD_DATA_EXTENSION = "x-card-data"

# Request roles.
ATTEMPT_ID = "attemptId"
PSP_REFERENCE = "pspReference"
MERCHANT_SERIAL_NUMBER = "merchantSerialNumber"
MASKED_CARD_NUMBER = "maskedCardNumber"
CARD_TYPE = "cardType"
CARD_COUNTRY = "cardCountry"
CARD_DATA_TYPE = "cardDataType"  # the TOKEN | PAN discriminator
NETWORK_TOKEN = "networkToken"
TOKEN_NUMBER = "tokenNumber"
CRYPTOGRAM = "cryptogram"
TOKEN_EXPIRY_MONTH = "tokenExpiryMonth"
TOKEN_EXPIRY_YEAR = "tokenExpiryYear"
TOKEN_TYPE = "tokenType"
ECI = "eci"
PAYMENT_ACCOUNT_REFERENCE = "paymentAccountReference"
ENCRYPTED_PAN = "encryptedPan"
SOFT_DECLINE_COMPLETED_REDIRECT_URL = "softDeclineCompletedRedirectUrl"
AMOUNT = "amount"
AMOUNT_VALUE = "amountValue"
AMOUNT_CURRENCY = "amountCurrency"
CARD_INFO = "cardInfo"

# Response roles.
STATUS = "status"
ERROR_CODE = "errorCode"
ERROR_MESSAGE = "errorMessage"
SOFT_DECLINE_REDIRECT_URL = "softDeclineRedirectUrl"
NETWORK_TRANSACTION_REFERENCE = "networkTransactionReference"

# Each role's well-known property paths, most specific first: a path matches the end of a schema path.
REQUEST_WELL_KNOWN: Mapping[str, tuple[tuple[str, ...], ...]] = {
    ATTEMPT_ID: (("authorizationAttemptId",),),
    PSP_REFERENCE: (("pspReference",),),
    MERCHANT_SERIAL_NUMBER: (("merchantSerialNumber",),),
    MASKED_CARD_NUMBER: (("maskedCardNumber",),),
    CARD_TYPE: (("cardType",),),
    CARD_COUNTRY: (("cardIssuedInCountryCode",),),
    CARD_DATA_TYPE: (("cardDataType",), ("paymentInstrument",)),
    CARD_INFO: (("cardInfo",),),
    NETWORK_TOKEN: (("networkToken",),),
    TOKEN_NUMBER: (("networkToken", "number"),),
    CRYPTOGRAM: (("networkToken", "cryptogram"), ("cryptogram",)),
    TOKEN_EXPIRY_MONTH: (("networkToken", "expiryMonth"),),
    TOKEN_EXPIRY_YEAR: (("networkToken", "expiryYear"),),
    TOKEN_TYPE: (("networkToken", "tokenType"), ("tokenType",)),
    ECI: (("networkToken", "eci"), ("eci",)),
    PAYMENT_ACCOUNT_REFERENCE: (("paymentAccountReference",),),
    ENCRYPTED_PAN: (("encryptedPan",),),
    SOFT_DECLINE_COMPLETED_REDIRECT_URL: (("softDeclineCompletedRedirectUrl",),),
    AMOUNT: (("amount",),),
    AMOUNT_VALUE: (("amount", "value"),),
    AMOUNT_CURRENCY: (("amount", "currency"),),
}
RESPONSE_WELL_KNOWN: Mapping[str, tuple[tuple[str, ...], ...]] = {
    STATUS: (("status",),),
    ERROR_CODE: (("errorCode",),),
    ERROR_MESSAGE: (("errorMessage",),),
    SOFT_DECLINE_REDIRECT_URL: (("softDeclineRedirectUrl",),),
    NETWORK_TRANSACTION_REFERENCE: (("networkTransactionReference",),),
}
# The roles the reference server cannot answer without: the attempt id it keys on, and the answer's status, error
# code and message and 3-D Secure page, which it writes.
NEEDED_REQUEST_ROLES = (ATTEMPT_ID,)
NEEDED_RESPONSE_ROLES = (STATUS, ERROR_CODE, ERROR_MESSAGE, SOFT_DECLINE_REDIRECT_URL)
# Card data when a document marks none with x-card-data.
DEFAULT_CARD_DATA_ROLES = (TOKEN_NUMBER, CRYPTOGRAM, ENCRYPTED_PAN)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class FieldRole:
    """One role: the pointer of its field in a body, whether it is card data, whether it was inferred."""

    name: str
    pointer: str
    card_data: bool = False
    inferred: bool = False

    @property
    def parts(self) -> tuple[str, ...]:
        return split_pointer(self.pointer)

    @property
    def property_name(self) -> str:
        return self.parts[-1] if self.parts else ""


def get_at(body: Any, pointer: str) -> Any:
    """The value at `pointer` in `body`, or MISSING."""
    node = body
    for part in split_pointer(pointer):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def set_at(body: Any, pointer: str, value: Any) -> bool:
    """Set the value at `pointer`; False (nothing changed) when its parent object is absent."""
    parts = split_pointer(pointer)
    parent = get_at(body, join_pointer(parts[:-1]))
    if not parts or not isinstance(parent, dict):
        return False
    parent[parts[-1]] = value
    return True


def delete_at(body: Any, pointer: str) -> bool:
    """Remove the field at `pointer`; False when it is not there."""
    parts = split_pointer(pointer)
    parent = get_at(body, join_pointer(parts[:-1]))
    if not parts or not isinstance(parent, dict) or parts[-1] not in parent:
        return False
    del parent[parts[-1]]
    return True


def mask_value(value: str) -> str:
    """A card number keeps its last four digits; anything else (cryptogram, encrypted PAN) is hidden."""
    if value.isdigit() and len(value) > 4:
        return "X" * (len(value) - 4) + value[-4:]
    return "***"


def masked(body: Any, card_data_pointers: Iterable[str]) -> Any:
    """A copy of `body` with every card-data string replaced by its mask."""
    out = copy.deepcopy(body)
    for pointer in card_data_pointers:
        value = get_at(out, pointer)
        if isinstance(value, str):
            set_at(out, pointer, mask_value(value))
    return out


def scrub(text: str, values: Iterable[str]) -> str:
    """`text` with every one of the card-data `values` replaced by its mask (values longest first)."""
    for value in values:
        text = text.replace(value, mask_value(value))
    return text


def card_values(body: Any, card_data_pointers: Iterable[str], min_length: int = 4) -> list[str]:
    """The card-data strings `body` carries (long enough to search for), longest first."""
    found = {get_at(body, p) for p in card_data_pointers}
    return sorted((v for v in found if isinstance(v, str) and len(v) >= min_length), key=len, reverse=True)


def schema_properties(
    schema: Mapping[str, Any], resolve: Callable[[Any], Any] | SchemaModel, prefix: tuple[str, ...] = ()
) -> Iterator[SchemaProperty]:
    """Every property of `schema`'s tree (the schema model's walk), outermost first; `resolve` is the model of
    the schema's document, or a Contract's `resolve`."""
    model = resolve if isinstance(resolve, SchemaModel) else getattr(resolve, "__self__", None)
    model = getattr(model, "model", model)
    if not isinstance(model, SchemaModel):
        raise TypeError("schema_properties needs the document's SchemaModel (or Contract.resolve)")
    yield from model.walk(schema, prefix)


def find_roles(
    declared: Any,
    properties: list[SchemaProperty],
    well_known: Mapping[str, tuple[tuple[str, ...], ...]],
    default_card_data: Iterable[str] = (),
) -> tuple[dict[str, FieldRole], tuple[str, ...]]:
    """The roles (declared ones as given, the rest inferred from their well-known names) and the pointers of
    every card-data field: those marked x-card-data, or the `default_card_data` roles' when none is marked."""
    pointers: dict[str, tuple[str, bool]] = {}
    for name, pointer in (declared or {}).items():
        pointers[str(name)] = (str(pointer), False)
    for name, suffixes in well_known.items():
        if name not in pointers:
            found = _infer(properties, suffixes)
            if found is not None:
                pointers[name] = (found, True)
    card_data = list(dict.fromkeys(p.pointer for p in properties if p.schema.get(CARD_DATA_EXTENSION) is True))
    if not card_data:
        card_data = [pointers[name][0] for name in default_card_data if name in pointers]
    roles = {
        name: FieldRole(name, pointer, card_data=pointer in card_data, inferred=inferred)
        for name, (pointer, inferred) in pointers.items()
    }
    return roles, tuple(card_data)


def _infer(properties: list[SchemaProperty], suffixes: tuple[tuple[str, ...], ...]) -> str | None:
    for suffix in suffixes:
        matches: list[tuple[str, ...]] = [p.parts for p in properties if p.parts[-len(suffix):] == suffix]
        if matches:
            # The shallowest occurrence: a top-level field over one nested in an unrelated object.
            shallowest: tuple[str, ...] = min(matches, key=len)
            return join_pointer(shallowest)
    return None
