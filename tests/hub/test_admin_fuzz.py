"""Property-based fuzzing of the admin API from its OpenAPI document: whatever a logged-in
admin sends, the hub answers without a server error."""

import pytest
import schemathesis
from conftest import log_in
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from hub.web import openapi

# Logging out would only end the fuzzing session early.
schema = schemathesis.openapi.from_dict(openapi.document()).exclude(path="/api/auth/logout")
schema.config.generation.update(modes=list(GenerationMode), allow_x00=True)


@pytest.fixture
def admin(app) -> dict:
    """The session cookie and CSRF header of a logged-in admin."""
    client = log_in(app)
    return {"cookies": {"morningai_session": client.get_cookie("morningai_session").value},
            "headers": {"X-CSRF-Token": client.environ_base["HTTP_X_CSRF_TOKEN"]}}


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case, app, admin):
    response = case.call(app=app, **admin)
    if case.path not in ("/api/auth/login", "/api/auth/setup"):
        assert response.status_code != 401, "the fuzzer's session was not sent"
    case.validate_response(response, checks=[not_a_server_error])
