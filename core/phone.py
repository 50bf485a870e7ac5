"""One way to show a phone number: Pakistani numbers as Pakistanis write them (``0300 1234567``)
on the site, in emails and in the admin; stored numbers and the partner API keep E.164."""

PAKISTAN_PREFIX = "+92"
PAKISTAN_E164_LENGTH = 13  # +92 and ten digits


def national_digits(msisdn: str) -> str:
    """``+923001234567`` as ``03001234567`` (how Pakistani wallets and forms write it); any
    other number as stored."""
    return "0" + msisdn[3:] if msisdn.startswith(PAKISTAN_PREFIX) else msisdn


def national_number(msisdn: str) -> str:
    """``+923001234567`` as ``0300 1234567``; any other number as stored (E.164)."""
    if msisdn.startswith(PAKISTAN_PREFIX) and len(msisdn) == PAKISTAN_E164_LENGTH:
        return f"0{msisdn[3:6]} {msisdn[6:]}"
    return msisdn
