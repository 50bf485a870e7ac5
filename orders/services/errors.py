class OrderError(Exception):
    """A request the order services refuse, with a machine-readable code and a clear message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
