import pytest
from tests.portal.test_public import post, identity
from tests.conftest import PASSWORD

@pytest.mark.django_db
def test_peek(csrf_client, family):
    person = family.person()
    code = family.code_for(person)
    r = post(csrf_client, "/activer/", identity(person, "AAAA-BBBB-CCCC"))
    c = r.content.decode()
    print(c[c.index("<main"):c.index("</main>")])
    post(csrf_client, "/activer/", identity(person, code))
    r = post(csrf_client, "/activer/identifiants/", {"channel": "sms", "destination": person.email, "username": "ab", "password": "x", "password_confirm": "y"})
    c = r.content.decode()
    print(c[c.index("<main"):c.index("</main>")])
