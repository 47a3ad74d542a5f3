class DomainError(ValueError):
    """A business rule refused an operation. The message is for the user (translated); views
    flash it, the REST API answers 422 with it, the CLI prints it. Nothing is written."""
