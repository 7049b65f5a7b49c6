"""Statutory rest days of 《全国年节及纪念日放假办法》, for years whose State Council notice is not loaded.

The yearly notice (国务院办公厅关于部分节假日安排的通知) arranges the festivals the law grants and adds
bridge days and make-up working days (调休); only the notice can say those. Until it is loaded, a
year still has the festivals the law itself fixes, so a deadline never counts 元旦 or 除夕 as a working
day (DESIGN.md "Default deadline policy"). Such a year stays *provisional* (and alerting) until the
notice arrives, because the bridges and make-up days are unknown.

The law as revised by 国务院令第795号 (2024, in force from 2025-01-01), Art. 2: 元旦 1 day (1 January);
春节 4 days (农历除夕, 正月初一至初三); 清明节 1 day (the day of the solar term 清明); 劳动节 2 days
(1–2 May); 端午节 1 day (农历五月初五); 中秋节 1 day (农历八月十五); 国庆节 3 days (1–3 October). The
2013 text (国务院令第644号, 2014–2024) had 春节 初一至初三 and 劳动节 1 May only; the 2007 text
(2008–2013) had 春节 除夕至初二. Lunar dates and the solar term come from ``lunar_python`` (a
maintained implementation of the Chinese calendar with astronomical solar terms), not from a table.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from lunar_python import Lunar, Solar

FIRST_YEAR = 2008  # the first year with 清明, 端午 and 中秋 as statutory holidays (2007 revision)
REVISION_2024 = 2025  # 国务院令第795号 applies from 2025
REVISION_2013 = 2014  # 国务院令第644号 applies from 2014


def _lunar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    """The Gregorian day of the solar term 清明 (4–6 April)."""
    for day in range(3, 7):
        if Solar.fromYmd(year, 4, day).getLunar().getJieQi() == "清明":
            return date(year, 4, day)
    raise ValueError(f"no 清明 found in early April {year}")  # pragma: no cover - astronomy guarantees one


@lru_cache(maxsize=64)
def statutory_rest_days(year: int) -> dict[date, str]:
    """The festival days the law itself fixes in ``year`` (no bridges, no make-up days), with their names."""
    if year < FIRST_YEAR:
        return {}
    new_year = _lunar(year, 1, 1)  # 正月初一 of the lunar year that begins in this Gregorian year
    if year >= REVISION_2024:
        spring = [new_year - timedelta(days=1), *(new_year + timedelta(days=i) for i in range(3))]
        labour = [date(year, 5, 1), date(year, 5, 2)]
    elif year >= REVISION_2013:
        spring = [new_year + timedelta(days=i) for i in range(3)]
        labour = [date(year, 5, 1)]
    else:
        spring = [new_year - timedelta(days=1), new_year, new_year + timedelta(days=1)]
        labour = [date(year, 5, 1)]
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    days.update({d: "春节" for d in spring})  # 春节 is never before 21 January: 除夕 stays in ``year``
    days[_qingming(year)] = "清明节"
    days.update({d: "劳动节" for d in labour})
    days.setdefault(_lunar(year, 5, 5), "端午节")
    days.setdefault(_lunar(year, 8, 15), "中秋节")  # in some years 中秋 is 1 October: one day, two names
    days.update({date(year, 10, d): "国庆节" for d in (1, 2, 3)})
    return days
