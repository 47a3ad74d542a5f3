"""Small model helpers shared by the domains."""

# Row ids are INTEGER columns: 32-bit on PostgreSQL and MariaDB. A larger number in a URL or a
# form names no row, and PostgreSQL refuses to compare an INTEGER column with it ("integer out
# of range"): such ids are answered 404 before any query (app/core/request_checks.py).
MAX_ROW_ID = 2**31 - 1


def is_row_id(value) -> bool:
    """An int, or a string of digits, that a row's id can be."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return type(value) is int and 0 < value <= MAX_ROW_ID


class ScalarDefaults:
    """Apply columns' scalar defaults when an object is built, not only at INSERT: business
    rules look at a new object's status before it is flushed (a new item *is* a draft)."""

    def __init__(self, **kwargs):
        for column in self.__table__.columns:
            default = column.default
            if (
                default is not None
                and getattr(default, "is_scalar", False)
                and column.key not in kwargs
            ):
                kwargs[column.key] = default.arg
        super().__init__(**kwargs)
