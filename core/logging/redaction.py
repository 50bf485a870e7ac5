"""Secrets and activation codes taken out of log text, whatever logged them.

Each shape keeps what helps to read a log (the SM-DP+ address, a key's public prefix, the
authorization scheme, the URL's user) and replaces the secret part with ``[redacted]``. ICCIDs
(in paths too) keep their first and last four digits, email addresses their first letter and
domain.
"""

import re

REDACTED = "[redacted]"
_END = r"""[^\s"'<>,;(){}\[\]]"""

# (pattern, replacement, hints): on ASCII text a pattern runs only when the text holds one of
# its hints (lower case), without which it cannot match; other text gets every pattern (a case-
# insensitive pattern also matches letters such as the dotless ı that lower() does not make).
PATTERNS: list[tuple[re.Pattern, str, tuple[str, ...]]] = [
    # eSIM activation codes: LPA:1$<SM-DP+ address>$<matching id>
    (
        re.compile(rf"(LPA:1\$[^\s$\"']*\$){_END}+", re.IGNORECASE),
        rf"\g<1>{REDACTED}",
        ("lpa:1$",),
    ),
    # A matching id on its own (provider payloads): matching_id, matchingId, matching-id
    (
        re.compile(rf"""(matching[_-]?id["']?\s*[:=]\s*["']?){_END}+""", re.IGNORECASE),
        rf"\g<1>{REDACTED}",
        ("matching",),
    ),
    # Stripe secret and restricted keys, webhook signing secrets
    (
        re.compile(r"\b((?:sk|rk)_(?:live|test)_)[A-Za-z0-9]+"),
        rf"\g<1>{REDACTED}",
        ("_live_", "_test_"),
    ),
    (re.compile(r"\b(whsec_)[A-Za-z0-9+/=]+"), rf"\g<1>{REDACTED}", ("whsec_",)),
    # Our partner API keys: <12 hex prefix>.<url-safe secret> (accounts.services.issue_api_key)
    (re.compile(r"\b([0-9a-f]{12}\.)[A-Za-z0-9_-]{20,}"), rf"\g<1>{REDACTED}", (".",)),
    # Authorization and X-Api-Key header values, as headers, dict items or WSGI variables
    (
        re.compile(
            r"""((?:authorization|x[-_]api[-_]key)["']?\s*[:=]\s*["']?"""
            r"""(?:(?:bearer|basic|token|digest)\s+)?)[^\s"',}]+""",
            re.IGNORECASE,
        ),
        rf"\g<1>{REDACTED}",
        ("authorization", "api"),
    ),
    (
        re.compile(r"\b(bearer\s+)[A-Za-z0-9._~+/-]+=*", re.IGNORECASE),
        rf"\g<1>{REDACTED}",
        ("bearer",),
    ),
    # Passwords in URLs: scheme://user:password@host
    (
        re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.IGNORECASE),
        rf"\g<1>{REDACTED}@",
        ("://",),
    ),
    # ICCIDs: 18 to 20 digits from 89 (telecom), sometimes padded with an F
    (re.compile(r"\b(89\d\d)\d{10,12}(\d{4})F?\b", re.IGNORECASE), "\\g<1>…\\g<2>", ("89",)),
    # Email addresses
    (
        re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+\.[A-Za-z0-9.-]+)"),
        "\\g<1>…@\\g<2>",
        ("@",),
    ),
]


# Every hint found in one pass, overlapping ones included: the lookahead is tried at each
# position, and no hint begins another, so at most one can start at a position.
_ALL_HINTS = [hint for _pattern, _replacement, hints in PATTERNS for hint in hints]
if any(a != b and b.startswith(a) for a in _ALL_HINTS for b in _ALL_HINTS):
    raise ValueError("A redaction hint begins another: one of them would go unseen.")
_HINTS = re.compile("(?=({}))".format("|".join(map(re.escape, _ALL_HINTS))))


def redact(text: str) -> str:
    """``text`` with every known secret shape replaced (redacting twice changes nothing)."""
    found = set(_HINTS.findall(text.lower())) if text.isascii() else None
    if found is not None and not found:
        return text
    for pattern, replacement, hints in PATTERNS:
        if found is None or not found.isdisjoint(hints):
            text = pattern.sub(replacement, text)
    return text


def redact_values(value):
    """``value`` with its strings redacted, inside dicts, lists and tuples too."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_values(item) for item in value]
    return value


def mask(value: str, keep: int = 4) -> str:
    """All but the last ``keep`` characters of ``value`` hidden: ``…4567``."""
    return f"…{value[-keep:]}" if len(value) > keep else "…"
