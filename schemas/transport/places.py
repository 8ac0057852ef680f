"""Schemas of countries, cities and stations (docs/transport.md "Places"). The
checks that need reference data or the database (ISO 3166-1 codes, IANA zones, the
city and parent station) are the service's; here only the shape and ranges."""

from marshmallow import Schema, fields, validate

from schemas.accounts.customers import NAME, SEARCH
from schemas.catalogue.translations import (
    Localized,
    NameTranslationSchema,
    Translations,
)
from schemas.common import ID, NOT_BLANK, PageArgs, sort_field
from schemas.transport.companies import COUNTRY, TIMEZONE

# IATA (DUB), UIC (7000001) or an own code; GTFS stop_id is free text.
STATION_CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
    error="Use 1-64 letters, digits, '.', '_', ':' or '-', starting with a "
    "letter or digit.",
)
STATION_NAME = [validate.Length(min=1, max=160), NOT_BLANK]
LATITUDE = validate.Range(min=-90, max=90)
LONGITUDE = validate.Range(min=-180, max=180)


class CountrySchema(Schema):
    """A country of ISO 3166-1 (code alpha-2, English name)."""

    code = fields.String(metadata={"example": "IE"})
    name = fields.String(metadata={"example": "Ireland"})


class CountryQueryArgs(Schema):
    """`?q=` over the code and the name, case-insensitively."""

    q = fields.String(validate=SEARCH)


NAME_TRANSLATIONS = {"example": {"de": {"name": "Dublin Busbahnhof"}}}
CITY_TRANSLATIONS = {"example": {"de": {"name": "Dublin"}, "es": {"name": "Dublín"}}}


class CitySchema(Schema):
    """A city with its country and IANA timezone; `name` in the caller's language
    (from `translations`, else the original; docs/i18n.md)."""

    id = fields.Integer(dump_only=True)
    name = Localized(metadata={"example": "Dublin"})
    translations = Translations(NameTranslationSchema, metadata=CITY_TRANSLATIONS)
    country = fields.String(metadata={"example": "IE"})
    timezone = fields.String(metadata={"example": "Europe/Dublin"})


class CityCreateSchema(Schema):
    """A new city: name, country (ISO 3166-1 alpha-2), timezone (IANA), all
    required; (name, country) is unique."""

    name = fields.String(required=True, validate=NAME, metadata={"example": "Dublin"})
    country = fields.String(required=True, validate=COUNTRY, metadata={"example": "IE"})
    timezone = fields.String(
        required=True, validate=TIMEZONE, metadata={"example": "Europe/Dublin"}
    )
    translations = Translations(NameTranslationSchema, metadata=CITY_TRANSLATIONS)


class CityUpdateSchema(Schema):
    """Partial update of a city (its stations keep their own timezone)."""

    name = fields.String(validate=NAME, metadata={"example": "Dublin"})
    country = fields.String(validate=COUNTRY, metadata={"example": "IE"})
    timezone = fields.String(validate=TIMEZONE, metadata={"example": "Europe/Dublin"})
    translations = Translations(NameTranslationSchema, metadata=CITY_TRANSLATIONS)


class CityQueryArgs(PageArgs):
    """`?served=true`: only cities with a station where a scheduled trip still
    departs; `country=` (ISO alpha-2), `q=` over the name; `sort=` name or
    country (default name)."""

    served = fields.Boolean()
    country = fields.String(validate=COUNTRY)
    q = fields.String(validate=SEARCH)
    sort = sort_field("name", "country")


class StationCitySchema(Schema):
    """The city of a station, in a station's answer."""

    id = fields.Integer(metadata={"example": 1})
    name = Localized(metadata={"example": "Dublin"})
    country = fields.String(metadata={"example": "IE"})


class StationSchema(Schema):
    """A station, stop or airport (GTFS stop) with its position and timezone;
    `name` (and its city's) in the caller's language, from `translations` (set
    here or by a GTFS feed's translations.txt), else the original."""

    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"example": "DUBBA"})
    name = Localized(metadata={"example": "Dublin Busaras"})
    translations = Translations(NameTranslationSchema, metadata=NAME_TRANSLATIONS)
    city_id = fields.Integer(metadata={"example": 1})
    city = fields.Nested(StationCitySchema, dump_only=True)
    latitude = fields.Float(allow_none=True, metadata={"example": 53.3502})
    longitude = fields.Float(allow_none=True, metadata={"example": -6.2512})
    timezone = fields.String(metadata={"example": "Europe/Dublin"})
    parent_id = fields.Integer(allow_none=True, metadata={"example": None})


class StationCreateSchema(Schema):
    """A new station: `code` unique, `city_id` an existing city, latitude -90..90
    and longitude -180..180 (degrees, WGS 84), `timezone` IANA (default: the
    city's), `parent_id` an existing station."""

    code = fields.String(
        required=True, validate=STATION_CODE, metadata={"example": "DUBBA"}
    )
    name = fields.String(
        required=True, validate=STATION_NAME, metadata={"example": "Dublin Busaras"}
    )
    city_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 1}
    )
    latitude = fields.Float(
        required=True, allow_nan=False, validate=LATITUDE, metadata={"example": 53.35}
    )
    longitude = fields.Float(
        required=True,
        allow_nan=False,
        validate=LONGITUDE,
        metadata={"example": -6.2512},
    )
    timezone = fields.String(
        allow_none=True, validate=TIMEZONE, metadata={"example": "Europe/Dublin"}
    )
    parent_id = fields.Integer(
        allow_none=True, strict=True, validate=ID, metadata={"example": None}
    )
    translations = Translations(NameTranslationSchema, metadata=NAME_TRANSLATIONS)


class StationUpdateSchema(Schema):
    """Partial update of a station; `timezone: null` takes the city's again."""

    code = fields.String(validate=STATION_CODE, metadata={"example": "DUBBA"})
    name = fields.String(validate=STATION_NAME, metadata={"example": "Dublin Busaras"})
    city_id = fields.Integer(strict=True, validate=ID, metadata={"example": 1})
    latitude = fields.Float(
        allow_nan=False, validate=LATITUDE, metadata={"example": 53.35}
    )
    longitude = fields.Float(
        allow_nan=False, validate=LONGITUDE, metadata={"example": -6.2512}
    )
    timezone = fields.String(
        allow_none=True, validate=TIMEZONE, metadata={"example": "Europe/Dublin"}
    )
    parent_id = fields.Integer(
        allow_none=True, strict=True, validate=ID, metadata={"example": None}
    )
    translations = Translations(NameTranslationSchema, metadata=NAME_TRANSLATIONS)


class StationQueryArgs(PageArgs):
    """`?q=` over code and name, `city_id=`, `country=` (the city's),
    `parent_id=`; `sort=` name or code (default name)."""

    q = fields.String(validate=SEARCH)
    city_id = fields.Integer(validate=ID)
    country = fields.String(validate=COUNTRY)
    parent_id = fields.Integer(validate=ID)
    sort = sort_field("name", "code")
