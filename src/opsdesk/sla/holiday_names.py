"""Public holidays from the `holidays` package, named as the official Korean almanac
(월력요항) names them (docs/subsystems/sla.md, "Holiday names").

The package (0.109) has the right dates but its own Korean labels ("삼일절", "추석 전날",
"어린이날 대체 휴일"); the rules below map them to the almanac's style ("3·1절", "추석 연휴",
"대체공휴일(어린이날)"). Names that carry a year-specific detail (the election's ordinal, the
reason of a temporary holiday) cannot be derived: they are CalendarDay rows shipped in the
seed migration, and a CalendarDay name always wins.
"""

from __future__ import annotations

from datetime import date

import holidays

RENAMES = {
    "신정연휴": "신정",
    "삼일절": "3·1절",
    "기독탄신일": "기독탄신일(성탄절)",
}
# Order of a day's names when two holidays coincide: solar holidays before lunar ones.
NAME_ORDER = ("신정", "3·1절", "어린이날", "현충일", "제헌절", "광복절", "개천절", "한글날")
SUBSTITUTE_SUFFIX = " 대체 휴일"
EVE_OR_AFTER = (" 전날", " 다음날")


def _rank(name: str) -> tuple[int, str]:
    return (NAME_ORDER.index(name) if name in NAME_ORDER else len(NAME_ORDER), name)


def _base_name(name: str) -> str:
    name = name.strip()
    for suffix in EVE_OR_AFTER:
        if name.endswith(suffix):
            return RENAMES.get(name.removesuffix(suffix), name.removesuffix(suffix)) + " 연휴"
    return RENAMES.get(name, name)


def official_name(library_name: str) -> str:
    """'부처님오신날 대체 휴일; 어린이날 대체 휴일' -> '대체공휴일(어린이날·부처님오신날)'."""
    parts = [part.strip() for part in library_name.split(";") if part.strip()]
    substitutes = [
        p.removesuffix(SUBSTITUTE_SUFFIX) for p in parts if p.endswith(SUBSTITUTE_SUFFIX)
    ]
    if substitutes and len(substitutes) == len(parts):
        names = sorted((_base_name(name) for name in substitutes), key=_rank)
        return f"대체공휴일({'·'.join(names)})"
    return " / ".join(sorted((_base_name(part) for part in parts), key=_rank))


def country_holidays(country: str, years: range) -> dict[date, str]:
    """Public holidays of ``country`` for ``years`` with almanac-style Korean names for KR."""
    if not country:
        return {}
    if country.upper() == "KR":
        table = holidays.country_holidays("KR", years=years, language="ko")
        return {day: official_name(name) for day, name in table.items()}
    return dict(holidays.country_holidays(country.upper(), years=years).items())


def holidays_preload() -> None:
    """Load the Korean holiday rules and names, which the seeded calendars use (the package
    imports a country's on first use: about 55 ms, which a web worker's first ticket paid).
    For a process that forks workers."""
    country_holidays("KR", range(0))
