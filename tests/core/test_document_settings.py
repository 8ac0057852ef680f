"""The tax settings of the invoices are checked at start (config.check_documents;
docs/documents.md "Tax"): a typo must not print wrong tax on legal documents."""

import pytest

from app import create_app

DB = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"TAX_MODE": "marginal"}, "TAX_MODE"),
        ({"DEFAULT_TAX_RATE": "twenty"}, "DEFAULT_TAX_RATE"),
        ({"DEFAULT_TAX_RATE": "101"}, "DEFAULT_TAX_RATE"),
        ({"DEFAULT_TAX_RATE": "-1"}, "DEFAULT_TAX_RATE"),
        ({"DEFAULT_TAX_RATE": "NaN"}, "DEFAULT_TAX_RATE"),
    ],
)
def test_bad_tax_settings_refuse_to_start(overrides, named):
    with pytest.raises(RuntimeError, match=named):
        create_app("testing", {**DB, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [{"TAX_MODE": "margin"}, {"DEFAULT_TAX_RATE": "0"}, {"DEFAULT_TAX_RATE": "21"}],
)
def test_good_tax_settings_start(overrides):
    app = create_app("testing", {**DB, **overrides})
    assert app.config["TAX_MODE"] in ("standard", "margin")
