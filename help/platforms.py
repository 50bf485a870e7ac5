"""Which phone the visitor is on, from the User-Agent, to show that phone's steps first."""

import re

IOS = "ios"
ANDROID = "android"
_IOS = re.compile(r"iPhone|iPad|iPod", re.IGNORECASE)
_ANDROID = re.compile(r"Android", re.IGNORECASE)


def platform_of(user_agent: str) -> str:
    """``"ios"``, ``"android"``, or ``""`` when the User-Agent names neither."""
    if _IOS.search(user_agent or ""):
        return IOS
    if _ANDROID.search(user_agent or ""):
        return ANDROID
    return ""
