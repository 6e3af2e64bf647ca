"""The Bolt app behind `POST /slack/events`, `/slack/install` and `/slack/oauth_redirect`.

Authorization knows two kinds of team: the single team of SLACK_BOT_TOKEN (answered in the
`default` workspace; its identity is learnt with one auth.test per process) and teams installed
through OAuth (looked up with the injected `find_bot`, no Slack call on the request path). A team
that is neither gets no task: Bolt answers 200 and, for commands, tells the user to reinstall.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store import Bot, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from adapters.slack import agent_view
from adapters.slack.inbound import Hub, register

log = logging.getLogger(__name__)

# Exactly the manifest's bot scopes (adapters/slack/manifest.yml).
SCOPES = ["app_mentions:read", "assistant:write", "channels:history", "groups:history", "im:history",
          "chat:write", "commands", "reactions:write", "channels:read", "groups:read", "usergroups:read",
          "users:read", "reactions:read"]

FindBot = Callable[..., Bot | None]


@dataclass(frozen=True)
class OAuth:
    client_id: str
    client_secret: str
    installations: InstallationStore
    states: OAuthStateStore
    redirect_uri: str | None = None


def web_client(api_url: str, token: str | None = None) -> WebClient:
    client = WebClient(token=token, base_url=api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


class HubAuthorize(Authorize):
    """Bolt's authorize step: which bot answers this team, from which hub workspace."""

    def __init__(self, client: WebClient, bot_token: str | None, find_bot: FindBot | None):
        self.client = client
        self.bot_token = bot_token
        self.find_bot = find_bot
        self._single: AuthorizeResult | None = None
        self._lock = threading.Lock()

    def _single_team(self) -> AuthorizeResult:
        with self._lock:
            if self._single is None:
                response = self.client.auth_test(token=self.bot_token)
                self._single = AuthorizeResult.from_auth_test_response(
                    auth_test_response=response, bot_token=self.bot_token, user_token=None)
            return self._single

    def __call__(self, *, context: BoltContext, enterprise_id: str | None, team_id: str | None,
                 user_id: str | None, **_) -> AuthorizeResult | None:
        if self.bot_token and team_id and team_id == self._single_team().team_id:
            context["workspace"] = "default"
            return self._single
        bot = self.find_bot(enterprise_id=enterprise_id, team_id=team_id,
                            is_enterprise_install=context.is_enterprise_install) if self.find_bot else None
        if bot is None:
            log.info("ignoring a request from Slack team %s: the app is not installed there", team_id)
            return None
        context["workspace"] = bot.custom_values["workspace"]
        return AuthorizeResult(enterprise_id=bot.enterprise_id, team_id=bot.team_id, bot_token=bot.bot_token,
                               bot_id=bot.bot_id, bot_user_id=bot.bot_user_id, bot_scopes=bot.bot_scopes,
                               user_id=user_id)


def create_bolt_app(*, signing_secret: str, api_url: str, hub: Hub, bot_token: str | None = None,
                    oauth: OAuth | None = None) -> App:
    client = web_client(api_url)
    oauth_settings = None
    if oauth is not None:
        oauth_settings = OAuthSettings(
            client_id=oauth.client_id, client_secret=oauth.client_secret, scopes=SCOPES,
            redirect_uri=oauth.redirect_uri, install_page_rendering_enabled=False,
            installation_store=oauth.installations, state_store=oauth.states)
    app = App(
        signing_secret=signing_secret, client=client,
        authorize=HubAuthorize(client, bot_token, oauth.installations.find_bot if oauth else None),
        oauth_settings=oauth_settings,
        installation_store=oauth.installations if oauth else None,
        # Listeners only submit, so they run before the response: the ack then means "stored".
        process_before_response=True,
        name="morningai")
    if oauth is not None:
        app.enable_token_revocation_listeners()  # uninstalling deletes the stored token
    register(app, hub)
    agent_view.register(app, hub)
    return app


def revoke(api_url: str, token: str) -> None:
    """Revoke a team's bot token at Slack (`auth.revoke`): disconnecting a team makes its token
    worthless, not just forgotten. Raises slack_sdk's SlackApiError or a network error."""
    WebClient(token=token, base_url=api_url, timeout=10).auth_revoke()
