"""The OpenAPI document of the admin API (`GET /api/openapi.json`), built with apispec.

Every operation is listed here, next to the others, so the whole API reads in one place; a
test checks that each `/api` route of the app is in it, and the schemathesis test fuzzes the
API from it. Request bodies validated by pydantic models take their schema from the model.
"""

from __future__ import annotations

from apispec import APISpec
from flask import Blueprint, jsonify

from adapters.web.inbound import MessageIn
from core.config import variable
from core.models import KINDS, PLATFORMS, STATUSES
from hub.admin import secrets as admin_secrets
from hub.web.faqs import FaqEdit
from worker import channels

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object"}
UUID_ID = {"type": "string", "format": "uuid"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


WORKSPACE = _query("workspace", {"type": "string"}, "workspace name (default: default)")
CREDENTIALS = {"type": "object", "required": ["email", "password"], "additionalProperties": False,
               "properties": {"email": {"type": "string"}, "password": {"type": "string"},
                              "role": {"type": "string", "enum": ["admin", "viewer"]}}}

WORKSPACE_BODY = {"type": "object", "required": ["workspace"], "additionalProperties": False,
                  "properties": {"workspace": {"type": "string"}}}
CHANNEL_PLATFORM = _path("platform", {"type": "string", "enum": list(channels.PLATFORMS)})
CHANNEL_SETTINGS = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {"enabled": {"type": "boolean"},
                   "follow_ups": {"type": "boolean", "description": "false: answer only when mentioned"},
                   "sources": {"type": "array", "nullable": True, "minItems": 1, "items": UUID_ID,
                               "description": "source ids the channel may search; null: all of its workspace's"},
                   "kinds": {"type": "array", "nullable": True, "minItems": 1,
                             "items": {"type": "string", "enum": list(KINDS)}, "description": "null: all"},
                   "workspace": {"type": "string", "description": "whose sources `sources` names "
                                                                  "[default: the workspace of the channel's last task]"}}}

DOCS_REPOSITORY = {
    "type": "object", "required": ["repository"], "additionalProperties": False,
    "properties": {"repository": {"type": "string", "description": "owner/name"},
                   "base_branch": {"type": "string", "description": "default main"},
                   "docs_path": {"type": "string", "description": "the folder new pages go to; default docs/"},
                   "faq_path": {"type": "string", "description": "default FAQ.md"},
                   "api_url": {"type": "string", "description": "default https://api.github.com"},
                   "token": {"type": "string", "description": "contents:write and pull_requests:write; write-only"},
                   "workspace": {"type": "string"}}}

# What an operation answers on success, when it is not a JSON object.
MEDIA = {("/api/faqs/export", "get"): {"content": {"text/markdown": {"schema": {"type": "string"}}}}}

# (path, method, summary, tag, parameters, request body schema, success status)
OPERATIONS: list[tuple[str, str, str, str, list, dict | None, int]] = [
    ("/api/auth/setup", "post", "Create the first admin (only while nobody has an account)", "auth", [],
     CREDENTIALS, 201),
    ("/api/auth/login", "post", "Log in: sets the session cookie, returns the CSRF token", "auth", [],
     CREDENTIALS, 200),
    ("/api/auth/logout", "post", "End the session", "auth", [], None, 204),
    ("/api/auth/session", "get", "The logged-in user and the session's CSRF token", "auth", [], None, 200),
    ("/api/users", "get", "List users", "auth", [], None, 200),
    ("/api/users", "post", "Add a user (admin or viewer)", "auth", [], CREDENTIALS, 201),
    ("/api/users/{user_id}", "delete", "Remove a user and their sessions", "auth",
     [_path("user_id", UUID_ID)], None, 204),
    ("/api/messages", "post", "Ask the bot as the web platform (the playground)", "tasks", [],
     MessageIn.model_json_schema(), 202),
    ("/api/tasks", "get", "Tasks, newest first, filtered", "tasks",
     [_query("status", {"type": "string", "enum": list(STATUSES)}),
      _query("platform", {"type": "string", "enum": list(PLATFORMS)}),
      _query("kind", {"type": "string", "enum": list(KINDS)}), WORKSPACE,
      _query("q", {"type": "string"}, "words in the message"),
      _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
      _query("offset", {"type": "integer", "minimum": 0})], None, 200),
    ("/api/tasks/{task_id}", "get", "A task with its reply, citations and trace", "tasks",
     [_path("task_id", UUID_ID)], None, 200),
    ("/api/tasks/{task_id}/events", "get",
     "A task's live events as Server-Sent Events (text/event-stream): task, status, text, then reply", "tasks",
     [_path("task_id", UUID_ID), _query("after", {"type": "string", "pattern": r"^(0|\d{1,20}-\d{1,20})$"})],
     None, 200),
    ("/api/tasks/{task_id}/retry", "post", "Run a failed task again", "tasks",
     [_path("task_id", UUID_ID)], None, 202),
    ("/api/tasks/{task_id}/publish", "post", "Post a drafted answer in the question's thread (optionally edited)",
     "tasks", [_path("task_id", UUID_ID)],
     {"type": "object", "properties": {"text": {"type": "string", "minLength": 1}}}, 202),
    ("/api/tasks/{task_id}/dismiss", "post", "Drop a drafted answer", "tasks", [_path("task_id", UUID_ID)], None, 200),
    ("/api/tasks/{task_id}/resolve", "post", "Mark the task's thread resolved", "tasks", [_path("task_id", UUID_ID)],
     None, 200),
    ("/api/analytics/support.csv", "get", "The support numbers as CSV (metric, value)", "analytics",
     [WORKSPACE, _query("hours", {"type": "integer", "minimum": 1, "maximum": 720})], None, 200),
    ("/api/analytics/gaps.csv", "get", "The coverage gaps as CSV", "analytics",
     [WORKSPACE, _query("hours", {"type": "integer", "minimum": 1, "maximum": 720})], None, 200),
    ("/api/escalations", "get", "Questions handed over to a person, not resolved yet, oldest first", "tasks",
     [WORKSPACE], None, 200),
    ("/api/knowledge/search", "get", "Hybrid search of a workspace", "knowledge",
     [_query("q", {"type": "string"}), WORKSPACE, _query("k", {"type": "integer", "minimum": 1, "maximum": 50})],
     None, 200),
    ("/api/knowledge/sources", "get", "A workspace's sources", "knowledge", [WORKSPACE], None, 200),
    ("/api/knowledge/sources", "post", "Ingest a path, repository or URL (JSON) or an uploaded file (multipart); "
     "or connect a source a connector keeps in sync (JSON with its kind)",
     "knowledge", [], {"oneOf": [
         {"type": "object", "required": ["location"],
          "properties": {"location": {"type": "string"}, "workspace": {"type": "string"},
                         "include": {"type": "array", "items": {"type": "string"}},
                         "exclude": {"type": "array", "items": {"type": "string"}}}},
         {"type": "object", "required": ["kind", "settings"],
          "properties": {"kind": {"type": "string", "enum": ["github", "confluence", "notion", "web"]},
                         "settings": {"type": "object"}, "credentials": {"type": "object"},
                         "schedule_minutes": {"type": ["integer", "null"], "minimum": 5, "maximum": 10080},
                         "workspace": {"type": "string"}}}]}, 202),
    ("/api/knowledge/sources/{source_id}/reingest", "post", "Ingest a source again", "knowledge",
     [_path("source_id", UUID_ID), WORKSPACE, _query("force", {"type": "string", "enum": ["0", "1"]})], None, 202),
    ("/api/knowledge/sources/{source_id}/sync", "post", "Sync a connector's source now", "knowledge",
     [_path("source_id", UUID_ID), WORKSPACE], None, 202),
    ("/api/knowledge/sources/{source_id}", "delete", "Remove a source with its documents", "knowledge",
     [_path("source_id", UUID_ID), WORKSPACE], None, 204),
    ("/api/knowledge/jobs/{job_id}", "get", "An ingest or FAQ job's status and progress", "knowledge",
     [_path("job_id", {"type": "string"})], None, 200),
    ("/api/faqs", "get", "A workspace's FAQs", "faqs",
     [WORKSPACE, _query("status", {"type": "string", "enum": ["draft", "approved", "rejected"]})], None, 200),
    ("/api/faqs/export", "get", "The approved FAQs as Markdown, grouped by topic", "faqs", [WORKSPACE], None, 200),
    ("/api/faqs/generate", "post", "Start drafting FAQs from the questions asked", "faqs", [],
     {"type": "object", "properties": {"workspace": {"type": "string"}}}, 202),
    ("/api/faqs/{faq_id}/approve", "post", "Approve a FAQ", "faqs", [_path("faq_id", UUID_ID), WORKSPACE], None, 200),
    ("/api/faqs/{faq_id}/reject", "post", "Reject a FAQ", "faqs", [_path("faq_id", UUID_ID), WORKSPACE], None, 200),
    ("/api/faqs/{faq_id}", "patch", "Edit a FAQ", "faqs", [_path("faq_id", UUID_ID), WORKSPACE],
     FaqEdit.model_json_schema(), 200),
    ("/api/proposals", "get", ("Doc changes proposed as pull requests, with their links and states, and the "
                                "docs repository"), "proposals", [WORKSPACE], None, 200),
    ("/api/proposals/{proposal_id}", "get", "One proposal", "proposals", [_path("proposal_id", UUID_ID), WORKSPACE],
     None, 200),
    ("/api/proposals/faq", "post", ("Propose the approved FAQs as the FAQ file (409: no docs repository, "
                                     "no approved FAQs)"), "proposals", [], {"type": "object", "properties": {"workspace": {"type": "string"}}}, 202),
    ("/api/proposals/doc", "post", "Propose a generated document as a new page under the docs path", "proposals", [],
     {"type": "object", "required": ["task_id"], "properties": {"task_id": UUID_ID}}, 202),
    ("/api/proposals/gap", "post", "Propose a coverage gap as a page of the questions the docs do not answer yet",
     "proposals", [], {"type": "object", "required": ["title", "task_ids"],
                       "properties": {"workspace": {"type": "string"},
                                      "title": {"type": "string", "minLength": 1, "maxLength": 200},
                                      "task_ids": {"type": "array", "minItems": 1, "items": UUID_ID}}}, 202),
    ("/api/proposals/repository", "get", "The workspace's docs repository (never its token)", "proposals",
     [WORKSPACE], None, 200),
    ("/api/proposals/repository", "put", "Set the workspace's docs repository (the token is kept when left out)",
     "proposals", [WORKSPACE], DOCS_REPOSITORY, 200),
    ("/api/proposals/repository", "delete", "Forget the workspace's docs repository and its token", "proposals",
     [WORKSPACE], None, 204),
    ("/api/feedback", "get", "Answers people voted on, those with a 👎 first, then the latest voted on", "feedback",
     [_query("vote", {"type": "string", "enum": ["up", "down"]}, "answers with at least one such vote"),
      _query("platform", {"type": "string", "enum": list(PLATFORMS)}), WORKSPACE,
      _query("since", {"type": "string"}, "voted on since this date or time (ISO 8601; UTC without a zone)"),
      _query("reviewed", {"type": "string", "enum": ["true", "false"]}),
      _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
      _query("offset", {"type": "integer", "minimum": 0})], None, 200),
    ("/api/feedback/{task_id}/review", "post", "Mark an answer's votes reviewed (off the queue until a new vote)",
     "feedback", [_path("task_id", UUID_ID)], None, 200),
    ("/api/health", "get", "PostgreSQL, Redis, workers with heartbeats, queues", "operations", [], None, 200),
    ("/api/queue/failed", "get", "Failed jobs", "operations", [], None, 200),
    ("/api/queue/failed/{job_id}/requeue", "post", "Run a failed job again", "operations",
     [_path("job_id", {"type": "string"})], None, 202),
    ("/api/analytics", "get", ("Tasks per hour by platform, latency, top questions, 👍/👎 over time, and the support "
                                "desk's numbers and coverage gaps (`support`)"), "operations",
     [_query("hours", {"type": "integer", "minimum": 1, "maximum": 720}), WORKSPACE], None, 200),
    ("/api/workspaces", "get", "Workspaces", "operations", [], None, 200),
    ("/api/workspaces", "post", "Create a workspace", "operations", [],
     {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}, 201),
    ("/api/tokens", "get", "API tokens for MCP clients (never the tokens), newest first", "integrations",
     [_query("workspace", {"type": "string"}, "only this workspace's")], None, 200),
    ("/api/tokens", "post", "Create an API token for one workspace: the answer is the only time it is shown",
     "integrations", [], {"type": "object", "required": ["name"], "additionalProperties": False,
                          "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 80},
                                         "workspace": {"type": "string"}}}, 201),
    ("/api/tokens/{token_id}", "delete", "Revoke an API token: MCP clients using it are refused from now on",
     "integrations", [_path("token_id", UUID_ID)], None, 200),
    ("/api/integrations", "get", "Chat platforms: configured or not, and where to connect them", "integrations",
     [], None, 200),
    ("/api/integrations/{platform}/test", "post",
     "Test connection: the platform's own answer (Slack auth.test, Discord /users/@me, the model's /models) "
     "or its error text, with the secrets in force; 409 when the secret it needs is not set", "integrations",
     [_path("platform", {"type": "string", "enum": ["slack", "discord", "model"]})], None, 200),
    ("/api/integrations/slack/teams", "get", "Slack teams installed through OAuth (never their tokens)",
     "integrations", [], None, 200),
    ("/api/integrations/slack/teams/{install_key}", "put", "Answer a Slack team from a workspace", "integrations",
     [_path("install_key", {"type": "string"})], WORKSPACE_BODY, 200),
    ("/api/integrations/slack/teams/{install_key}", "delete", "Disconnect a Slack team: forget it, revoke its token",
     "integrations", [_path("install_key", {"type": "string"})], None, 200),
    ("/api/integrations/discord/guilds", "get", "Discord guilds mapped to a workspace or seen in tasks",
     "integrations", [], None, 200),
    ("/api/integrations/discord/guilds/{guild_id}", "put", "Answer a Discord guild from a workspace",
     "integrations", [_path("guild_id", {"type": "string"})], WORKSPACE_BODY, 200),
    ("/api/integrations/discord/guilds/{guild_id}", "delete", "Disconnect a Discord guild: leave it, drop its mapping",
     "integrations", [_path("guild_id", {"type": "string"})], None, 200),
    ("/api/integrations/slack/manifest", "get",
     "The Slack app manifest with this hub's public URL filled in (YAML and JSON) and the link that creates the "
     "app from it; 409 while MORNINGAI_PUBLIC_URL is unset or not an https address Slack can reach",
     "integrations", [], None, 200),
    ("/api/integrations/discord/setup", "get",
     "Discord's Interactions Endpoint URL and the bot's invite URL, each null with the reason while the setting "
     "it needs is missing", "integrations", [], None, 200),
    ("/api/channels/{platform}", "get", "A platform's channels with their settings", "integrations",
     [CHANNEL_PLATFORM], None, 200),
    ("/api/channels/{platform}/{channel}", "put", "Change a channel's settings (those not sent keep their value)",
     "integrations", [CHANNEL_PLATFORM, _path("channel", {"type": "string"})], CHANNEL_SETTINGS, 200),
    ("/api/channels/{platform}/{channel}", "delete", "Put a channel back to the default settings", "integrations",
     [CHANNEL_PLATFORM, _path("channel", {"type": "string"})], None, 204),
    ("/api/settings", "get", "Editable settings, secrets (set or not, never their values), and where each comes from",
     "operations", [], None, 200),
    ("/api/settings", "put", "Change settings (null: back to the environment's value)", "operations", [],
     {"type": "object", "additionalProperties": True}, 200),
    ("/api/secrets/{name}", "put", "Set a secret (write-only; applies to processes started after it)", "operations",
     [_path("name", {"type": "string", "enum": [variable(field) for field in admin_secrets.EDITABLE]})],
     {"type": "object", "required": ["value"], "additionalProperties": False,
      "properties": {"value": {"type": "string", "minLength": 1}}}, 200),
    ("/api/secrets/{name}", "delete", "Remove a secret's dashboard value: the environment's applies again",
     "operations", [_path("name", {"type": "string"})], None, 200),
    ("/api/openapi.json", "get", "This document", "operations", [], None, 200),
]


def document() -> dict:
    spec = APISpec(title="MorningAI hub admin API", version="1", openapi_version="3.0.3",
                   info={"description": "Every route needs a session (cookie `morningai_session`) "
                                        "except login and setup; every change also needs the "
                                        "session's CSRF token in the X-CSRF-Token header."})
    spec.components.schema("Error", {"type": "object", "required": ["error"],
                                     "properties": {"error": {"type": "string"}}})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "morningai_session"})
    spec.components.security_scheme("csrf", {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"})
    paths: dict[str, dict] = {}
    for path, method, summary, tag, parameters, body, status in OPERATIONS:
        public = path in ("/api/auth/login", "/api/auth/setup")
        operation = {
            "summary": summary, "tags": [tag], "parameters": parameters,
            "responses": {str(status): {"description": "success",
                                        **({} if status == 204 else MEDIA.get((path, method), _json(OBJECT)))},
                          "400": {"description": "bad input", **_json(ERROR)},
                          "401": {"description": "no session", **_json(ERROR)},
                          "403": {"description": "no CSRF token, or a viewer changing something", **_json(ERROR)},
                          "404": {"description": "not found", **_json(ERROR)}},
            "security": [] if public else [{"session": []} if method == "get" else {"session": [], "csrf": []}],
        }
        if body is not None:
            operation["requestBody"] = {"required": True, **_json(body)}
        paths.setdefault(path, {})[method] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())
