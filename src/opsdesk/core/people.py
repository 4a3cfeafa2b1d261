"""How staff members are named to people."""

from __future__ import annotations

from typing import Any


def display_name(user: Any) -> str:
    """The staff profile's display name, else the username; "" for nobody.

    Duck-typed (a user with an optional ``staff_profile``) so core needs no tenancy import.
    """
    if user is None:
        return ""
    profile = getattr(user, "staff_profile", None)
    return str(profile.display_name) if profile is not None else str(user.get_username())
