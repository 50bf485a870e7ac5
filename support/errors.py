class SupportError(Exception):
    """A request the support services refuse, with a machine-readable code and a clear message."""

    def __init__(self, code: str, message, field: str = ""):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field
