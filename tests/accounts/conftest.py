"""What the account tests share: ROLES (every role that signs in, customers
included; the roles matrices of the customer and employee tests) and `login`
(POST /auth/login; the password defaults to PASSWORD).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`, `mailbox`,
`password_hash`) with PASSWORD; list helpers from tests/factories.py.
"""

from tests.conftest import PASSWORD

AUTH = "/api/v1/auth"
ROLES = ("admin", "hr", "sales", "operation", "operation_head", "finance", "customer")


def login(client, email, password=PASSWORD, account="employee"):
    return client.post(
        f"{AUTH}/login",
        json={"email": email, "password": password, "account": account},
    )
