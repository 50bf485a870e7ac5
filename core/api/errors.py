"""One error body everywhere: ``{"error": {"code", "message", "details"}}``."""


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}
