from __future__ import annotations

import pytest

from opsdesk.core.errors import InvalidInput
from opsdesk.tenancy.services import contact_create, contract_create, organisation_create
from tests.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": "Bad Code", "name": "x"}, "code"),
        ({"code": "ok", "name": ""}, "name"),
        ({"code": "ok", "name": "x" * 201}, "name"),
        ({"code": "ok", "name": "nul\x00byte"}, "name"),
        ({"code": "ok", "name": "x", "language": "fr"}, "language"),
        ({"code": "ok", "name": "x", "phones": ["not a number"]}, "number"),
    ],
)
def test_organisation_input_is_checked_before_the_database(kwargs, field):
    with pytest.raises(InvalidInput) as err:
        organisation_create(**kwargs)
    assert err.value.field == field


def test_domains_and_addresses_are_unique_across_customers():
    make_org(domains=("acme.example",))
    with pytest.raises(InvalidInput) as err:
        organisation_create(code="other", name="Other", domains=["ACME.example"])
    assert err.value.field == "domains"
    contact_create(organisation=None, name="A", emails=["a@acme.example"])
    with pytest.raises(InvalidInput):
        contact_create(organisation=None, name="B", emails=["A@acme.example"])


def test_contract_service_lines_and_clouds_are_checked():
    org = make_org()
    with pytest.raises(InvalidInput) as err:
        contract_create(organisation=org, code="c1", name="C", service_lines=[])
    assert err.value.field == "service_lines"
    with pytest.raises(InvalidInput) as err:
        contract_create(
            organisation=org, code="c1", name="C", service_lines=["iaas"], clouds=["oracle"]
        )
    assert err.value.field == "clouds"
    contract = contract_create(
        organisation=org, code="c1", name="C", service_lines=["iaas", "iaas"], clouds=["aws"]
    )
    assert contract.service_lines == ["iaas"]


def test_contact_email_must_be_an_address():
    with pytest.raises(InvalidInput) as err:
        contact_create(organisation=None, name="A", emails=["not-an-address"])
    assert err.value.field == "emails"
