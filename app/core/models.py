"""Small model helpers shared by the domains."""


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
