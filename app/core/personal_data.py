"""Personal data encrypted at rest (issue 20, part 5): citizen ID numbers and phone numbers.

A stored value is `v1:<key id>:<base64(nonce || ciphertext || tag)>`: AES-256-GCM with a random
96-bit nonce per value, and the table and column (`inspector.id_number`) as associated data, so
that a value copied into another column or row kind does not decrypt. The key id names which of
the configured keys encrypted it: after a new key is put first, old values still decrypt and
`flask security rotate-data-key` re-encrypts them under the new one.

Beside each encrypted column sits its keyed blind index (`<column>_bidx`): HMAC-SHA256 under a
separate key of the normalised value, truncated to 32 hex characters (128 bits). Equal values
have equal indexes, so the unique constraint of an inspector's ID number, the import's
duplicate checks and exact lookups compare indexes; nothing else can be searched (no substring,
prefix or order on these columns: the comparator refuses such a query instead of silently
matching nothing).

Keys (config.load_data_keys): DSR_DATA_KEYS = "kid:base64key,kid2:base64key" (the first one
encrypts, all of them decrypt) and DSR_BLIND_INDEX_KEY (base64, at least 32 bytes), from the
environment; a development machine generates them once into instance/data_keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, event
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
BLIND_INDEX_HEX = 32
# The widened columns: "v1:" + a key id of up to 16 characters + ":" + base64 of 12 + n + 16
# bytes: 20 characters of plain text take 64, 60 take 120.
ENCRYPTED_LENGTH = 200
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class DataKeyError(RuntimeError):
    """A key setting that cannot be used (missing, malformed, wrong length)."""


class DecryptionError(ValueError):
    """A stored value that does not decrypt: tampered with, moved from another column, or
    encrypted under a key that is no longer configured."""


def _b64decode(text: str) -> bytes:
    text = text.strip()
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise DataKeyError(f"not base64: {exc}") from None


def parse_data_keys(text: str) -> list[tuple[str, bytes]]:
    """ "kid:base64key,kid2:base64key" -> [(kid, 32-byte key)], the current key first."""
    keys: list[tuple[str, bytes]] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        kid, sep, encoded = part.partition(":")
        if not sep or not _KID_RE.match(kid):
            raise DataKeyError(
                "DSR_DATA_KEYS: each key is <id>:<base64 key>, the id 1-16 letters, digits, - or _"
            )
        key = _b64decode(encoded)
        if len(key) != KEY_BYTES:
            raise DataKeyError(f"DSR_DATA_KEYS: key {kid} is {len(key)} bytes, not {KEY_BYTES}")
        if any(kid == known for known, _key in keys):
            raise DataKeyError(f"DSR_DATA_KEYS: key id {kid} appears twice")
        keys.append((kid, key))
    if not keys:
        raise DataKeyError("DSR_DATA_KEYS holds no key")
    return keys


def parse_blind_index_key(text: str) -> bytes:
    key = _b64decode(text or "")
    if len(key) < KEY_BYTES:
        raise DataKeyError(f"DSR_BLIND_INDEX_KEY must be at least {KEY_BYTES} bytes (base64)")
    return key


def new_data_key(kid: str) -> str:
    """A fresh "kid:base64key" entry for DSR_DATA_KEYS."""
    if not _KID_RE.match(kid):
        raise DataKeyError("a key id is 1-16 letters, digits, - or _")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def new_blind_index_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


class Keyring:
    """The configured keys of one application."""

    def __init__(self, data_keys: str, blind_index_key: str):
        keys = parse_data_keys(data_keys)
        self.current_kid = keys[0][0]
        self._ciphers = {kid: AESGCM(key) for kid, key in keys}
        self._blind_key = parse_blind_index_key(blind_index_key)

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def encrypt(self, value: str, aad: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_kid].encrypt(
            nonce, value.encode("utf-8"), aad.encode("utf-8")
        )
        return f"{VERSION}:{self.current_kid}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, aad: str) -> str:
        version, kid, body = key_id_of(stored, with_body=True)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(f"{aad}: encrypted under key {kid}, which is not configured")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionError(f"{aad}: the stored value is not base64") from None
        if len(raw) < NONCE_BYTES + 16:
            raise DecryptionError(f"{aad}: the stored value is too short")
        try:
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                f"{aad}: the stored value fails its authentication (changed, or not of this column)"
            ) from None
        return plain.decode("utf-8")

    def blind_index(self, value: str | None, domain: str) -> str | None:
        if value is None:
            return None
        text = normalise(value)
        if not text:
            return None
        mac = hmac.new(self._blind_key, f"{domain}\x00{text}".encode(), hashlib.sha256)
        return mac.hexdigest()[:BLIND_INDEX_HEX]


def normalise(value) -> str:
    """What the blind index is computed from: no whitespace or hyphens, upper case (a citizen
    ID's check character X)."""
    return "".join(str(value).split()).replace("-", "").upper()


def key_id_of(stored: str, with_body: bool = False):
    """The key id of a stored value (DecryptionError when it is not one of ours)."""
    parts = stored.split(":", 2) if isinstance(stored, str) else []
    if len(parts) != 3 or parts[0] != VERSION or not _KID_RE.match(parts[1]):
        raise DecryptionError("the stored value is not an encrypted value (v1:<key id>:...)")
    return tuple(parts) if with_body else parts[1]


def is_encrypted(stored) -> bool:
    try:
        key_id_of(stored)
    except DecryptionError:
        return False
    return True


# --- the application's keyring ---------------------------------------------------------------

_default: Keyring | None = None


def init_app(app) -> Keyring:
    """The keyring of app.config's DATA_KEYS / BLIND_INDEX_KEY (config.load_data_keys)."""
    global _default
    ring = Keyring(app.config["DATA_KEYS"], app.config["BLIND_INDEX_KEY"])
    app.extensions["personal_data"] = ring
    _default = ring
    return ring


def keyring() -> Keyring:
    from flask import current_app, has_app_context

    if has_app_context():
        ring = current_app.extensions.get("personal_data")
        if ring is not None:
            return ring
    if _default is None:
        raise DataKeyError("no data keys configured (create_app sets them up)")
    return _default


def encrypt(value: str, aad: str) -> str:
    return keyring().encrypt(value, aad)


def decrypt(stored: str, aad: str) -> str:
    return keyring().decrypt(stored, aad)


def blind_index(value: str | None, domain: str) -> str | None:
    """The blind index of a value of column `domain` ("inspector.id_number")."""
    return keyring().blind_index(value, domain)


# --- the column type ---------------------------------------------------------------------------

# Operators that would compare ciphertext: each encryption of a value differs, so they would
# silently match nothing. Compare the blind index instead (`blind_index(value, ...)`).
_REFUSED = frozenset(
    {
        operators.eq,
        operators.ne,
        operators.lt,
        operators.le,
        operators.gt,
        operators.ge,
        operators.like_op,
        operators.not_like_op,
        operators.ilike_op,
        operators.not_ilike_op,
        operators.contains_op,
        operators.not_contains_op,
        operators.startswith_op,
        operators.not_startswith_op,
        operators.endswith_op,
        operators.not_endswith_op,
        operators.in_op,
        operators.not_in_op,
        operators.between_op,
        operators.not_between_op,
    }
)


class Encrypted(TypeDecorator):
    """A text column stored encrypted; Python sees the plain value. `aad` is "table.column"."""

    impl = String
    cache_ok = True

    class Comparator(TypeDecorator.Comparator):
        def operate(self, op, *other, **kwargs):
            if op in _REFUSED and not (len(other) == 1 and other[0] is None):
                raise TypeError(
                    f"{self.expr}: an encrypted column cannot be compared in SQL; "
                    "compare its blind index"
                )
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

    def __init__(self, aad: str, length: int = ENCRYPTED_LENGTH):
        super().__init__(length)
        self.aad = aad

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(str(value), self.aad)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value, self.aad)

    def copy(self, **kw):
        return Encrypted(self.aad, self.impl.length)


def blind_indexed(model) -> None:
    """Keeps a model's blind indexes (`__blind_indexes__ = {"phone": "phone_bidx"}`) in step
    with their columns on every flush (page, REST, service, fixture)."""
    table = model.__table__.name
    pairs = [(src, dst, f"{table}.{src}") for src, dst in model.__blind_indexes__.items()]

    def fill(mapper, connection, target):
        for src, dst, domain in pairs:
            setattr(target, dst, blind_index(getattr(target, src), domain))

    event.listen(model, "before_insert", fill)
    event.listen(model, "before_update", fill)


def encrypted_columns(table) -> list[tuple[str, str]]:
    """[(column, blind index column)] of a table's encrypted columns (the index may be None)."""
    found = []
    for column in table.columns:
        if isinstance(column.type, Encrypted):
            index = f"{column.key}_bidx"
            found.append((column.key, index if index in table.c else None))
    return found


def row_encrypter(table, names: tuple[str, ...]):
    """For a writer that bypasses the column types (COPY): a function encrypting the values
    of the table's encrypted columns in a row of `names` order (identity when there are none)."""
    positions = [
        (index, table.c[name].type.aad)
        for index, name in enumerate(names)
        if name in table.c and isinstance(table.c[name].type, Encrypted)
    ]
    if not positions:
        return lambda row: row
    ring = keyring()

    def encrypt_row(row):
        row = list(row)
        for index, aad in positions:
            if row[index] is not None:
                row[index] = ring.encrypt(str(row[index]), aad)
        return tuple(row)

    return encrypt_row


def fill_blind_indexes(model, values: dict) -> None:
    """Sets the blind indexes of a dict of a model's column values (the import's bulk rows)."""
    table = model.__table__.name
    for src, dst in getattr(model, "__blind_indexes__", {}).items():
        if src in values:
            values[dst] = blind_index(values[src], f"{table}.{src}")


# --- rewriting stored rows: the migration, key rotation -------------------------------------

# The encrypted columns, by table (the migration and the rotation command walk these).
ENCRYPTED_TABLES = {
    "inspector": ("phone", "id_number"),
    "target": ("id_number", "contact_phone"),
}


def rewrite_batch(connection, table: str, columns, after_id: int, *, plain=False, size=1000):
    """One batch of rows of `table` (ids above `after_id`) brought to the current keys: every
    value encrypted under the current data key (a plain one too: the migration) and its blind
    index recomputed under the current index key; with `plain`, decrypted instead (the
    migration's downgrade). Only rows that change are written. Returns (last id read or None
    when there are no more rows, rows written). On PostgreSQL and MariaDB the batch's rows are
    locked until the caller's transaction ends (a user's edit meanwhile waits)."""
    from sqlalchemy import text

    ring = keyring()
    names = ", ".join([*columns, *(f"{c}_bidx" for c in columns)])
    lock = "" if connection.dialect.name == "sqlite" else " FOR UPDATE"
    rows = connection.execute(
        text(f"SELECT id, {names} FROM {table} WHERE id > :after ORDER BY id LIMIT {size}{lock}"),
        {"after": after_id},
    ).all()
    if not rows:
        return None, 0
    n = len(columns)
    changed = []
    for row in rows:
        values, dirty = {"id": row[0]}, False
        for column, stored, index in zip(columns, row[1 : 1 + n], row[1 + n :], strict=True):
            aad = f"{table}.{column}"
            encrypted = stored is not None and is_encrypted(stored)
            value = ring.decrypt(stored, aad) if encrypted else stored
            if plain:
                values[column] = value
                dirty = dirty or encrypted
                continue
            fresh_index = ring.blind_index(value, aad) if value else None
            if value and (not encrypted or key_id_of(stored) != ring.current_kid):
                values[column] = ring.encrypt(value, aad)
                dirty = True
            else:
                values[column] = stored
            values[f"{column}_bidx"] = fresh_index
            dirty = dirty or index != fresh_index
        if dirty:
            changed.append(values)
    if changed:
        sets = list(columns) if plain else [*columns, *(f"{c}_bidx" for c in columns)]
        assignments = ", ".join(f"{name} = :{name}" for name in sets)
        connection.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :id"), changed)
    return rows[-1][0], len(changed)


def print_new_keys(kid: str | None = None, echo=print) -> None:
    """Fresh DSR_DATA_KEYS and DSR_BLIND_INDEX_KEY lines (nothing is stored)."""
    import datetime as dt

    kid = kid or "k" + dt.date.today().strftime("%Y%m%d")
    echo(f"DSR_DATA_KEYS={new_data_key(kid)}")
    echo(f"DSR_BLIND_INDEX_KEY={new_blind_index_key()}")


if __name__ == "__main__":  # python -m app.core.personal_data [kid]: before the keys exist
    import sys

    print_new_keys(sys.argv[1] if len(sys.argv) > 1 else None)
