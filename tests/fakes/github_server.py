"""A fake GitHub for tests: the REST API v3 and the GraphQL endpoint over real HTTP on
127.0.0.1, in GitHub's JSON, and GitHub's side of webhooks (signed push deliveries).

    with FakeGitHub(token="ghp_test") as github:
        github.add_repo("acme/handbook", {"README.md": "# Hello", "docs/setup.md": "..."})
        after = github.commit("acme/handbook", {"docs/setup.md": "new", "old.md": None})
        github.add_issue("acme/handbook", "Crash on start", "...", state="closed",
                         comments=["Fixed in 1.2"])
        github.add_discussion("acme/handbook", "How to deploy?", "...",
                              comments=["Use the chart", "Thanks"], answer=0)
        github.fail_next("GET /repos/{owner}/{repo}/git/trees/{sha}", 403,
                         "You have exceeded a secondary rate limit.", {"Retry-After": "1"})
        body, headers = github.push_event("acme/handbook", before, after, secret="s3cret")
        github.count("GET /repos/{owner}/{repo}/git/blobs/{sha}")   # requests served

Point a client at `github.url` as its API base (GitHub Enterprise's shape without /api/v3);
html_url links use the same host, and GraphQL is `POST /graphql`. The repository's files live in
tests/fakes/github_git.py (git's blob shas, a commit per change); discussions are read through
GraphQL (tests/fakes/github_graphql.py).

Authentication: `Authorization: Bearer <token>` (or `token <token>`). A token not issued answers
401 {"message": "Bad credentials"}; no token reads public repositories only (a private one is a
404, as GitHub hides it). A GitHub App (`add_app`) trades an RS256 JWT for an installation token
at POST /app/installations/{id}/access_tokens.

Every answer carries x-ratelimit-* headers. `fail_next(route, status, message, headers)` answers
a route's next request(s) with an error in GitHub's shape; `secondary_rate_limit` and
`primary_rate_limit` are the two limits GitHub documents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

from . import github_graphql
from .github_git import Commit, GitRepo
from .http_server import KeepAliveHandler, Served
from .openai_server import Reply, Request

DOCS = "https://docs.github.com/rest"
# (method, template, handler). A template's {name+} spans slashes; counts and fail_next name a
# route by its template without the "+", as GitHub's docs write it: "GET /repos/{owner}/{repo}/git/trees/{sha}".
ROUTES = [
    ("GET", "/repos/{owner}/{repo}", "get_repo"),
    ("GET", "/repos/{owner}/{repo}/branches/{branch+}", "get_branch"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref+}", "get_commit"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref+}", "get_ref"),
    ("GET", "/repos/{owner}/{repo}/git/trees/{sha+}", "get_tree"),
    ("GET", "/repos/{owner}/{repo}/git/blobs/{sha}", "get_blob"),
    ("POST", "/repos/{owner}/{repo}/git/refs", "create_ref"),
    ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref+}", "update_ref"),
    ("DELETE", "/repos/{owner}/{repo}/git/refs/{ref+}", "delete_ref"),
    ("GET", "/repos/{owner}/{repo}/contents", "get_contents"),
    ("GET", "/repos/{owner}/{repo}/contents/{path+}", "get_contents"),
    ("PUT", "/repos/{owner}/{repo}/contents/{path+}", "put_contents"),
    ("GET", "/repos/{owner}/{repo}/issues", "list_issues"),
    ("GET", "/repos/{owner}/{repo}/issues/{number}/comments", "list_comments"),
    ("GET", "/repos/{owner}/{repo}/pulls", "list_pulls"),
    ("POST", "/repos/{owner}/{repo}/pulls", "create_pull"),
    ("GET", "/repos/{owner}/{repo}/pulls/{number}", "get_pull"),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{number}", "update_pull"),
    ("POST", "/graphql", "graphql"),
    ("POST", "/app/installations/{installation}/access_tokens", "installation_token"),
]
_COMPILED = [(method, template, handler,
              re.compile("^" + re.sub(r"\\{(\w+)(\\\+)?\\}", lambda m: f"(?P<{m[1]}>{'.+' if m[2] else '[^/]+'})",
                                      re.escape(template)) + "$"))
             for method, template, handler in ROUTES]


class FakeGitHub(Served):
    name = "fake-github"

    def __init__(self, token: str | None = "ghp_fake_token", *, rate_limit: int = 5000):
        self.tokens: set[str] = {token} if token else set()
        self.blobs: dict[str, bytes] = {}
        self.repos: dict[str, GitRepo] = {}
        self.private: set[str] = set()
        self.issues: dict[str, list[dict]] = {}  # repo -> issues and pull requests, by number
        self.discussions: dict[str, list[dict]] = {}
        self.apps: dict[str, dict] = {}  # app id -> {"public_key", "installation"}
        self.issued: dict[str, str] = {}  # installation token -> installation id
        self.requests: list[Request] = []
        self.counts: Counter[str] = Counter()  # "GET /repos/{owner}/{repo}/..." -> requests served
        self.rate_limit = rate_limit
        self._faults: list[tuple[str, Reply]] = []
        self._clock = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._ids = itertools.count(1000)
        self._lock = threading.RLock()

    # --- lifecycle ---

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # --- scripting ---

    def add_repo(self, full_name: str, files: dict[str, bytes | str] | None = None, *,
                 default_branch: str = "main", private: bool = False) -> str:
        """A repository whose default branch holds `files`; returns the first commit's sha."""
        with self._lock:
            repo = self.repos[full_name] = GitRepo(full_name, self.blobs, default_branch)
            self.issues[full_name], self.discussions[full_name] = [], []
            if private:
                self.private.add(full_name)
            return repo.commit(default_branch, dict(files or {}), "Initial commit", self._tick()).sha

    def commit(self, full_name: str, changes: dict[str, bytes | str | None], *, branch: str | None = None,
               message: str = "Update files") -> str:
        """A commit on `branch` (the default one unless named): content to write, None to delete.
        Returns the new head's sha."""
        with self._lock:
            repo = self.repos[full_name]
            return repo.commit(branch or repo.default_branch, changes, message, self._tick()).sha

    def head(self, full_name: str, branch: str | None = None) -> str:
        repo = self.repos[full_name]
        return repo.branches[branch or repo.default_branch]

    def file(self, full_name: str, path: str, ref: str | None = None) -> bytes | None:
        """A file's content at `ref` (a branch or commit; the default branch unless named)."""
        repo = self.repos[full_name]
        commit = repo.resolve(ref or repo.default_branch)
        sha = commit.files.get(path) if commit else None
        return self.blobs[sha] if sha else None

    def add_issue(self, full_name: str, title: str, body: str = "", *, state: str = "open",
                  state_reason: str | None = None, comments: list[str] = (), pull_request: bool = False,
                  labels: list[str] = ()) -> int:
        """An issue (or, with `pull_request`, a pull request as the issues API lists it); a closed
        one is "completed" unless `state_reason` says otherwise. Returns its number."""
        with self._lock:
            number = self._next_number(full_name)
            at = self._tick()
            issue = {"id": next(self._ids), "node_id": f"I_{number}", "number": number, "title": title,
                     "body": body, "state": state,
                     "state_reason": state_reason or ("completed" if state == "closed" else None),
                     "html_url": f"{self.url}/{full_name}/{'pull' if pull_request else 'issues'}/{number}",
                     "user": {"login": "octocat"}, "labels": [{"name": name} for name in labels],
                     "created_at": at, "updated_at": at, "closed_at": at if state == "closed" else None,
                     "_comments": []}
            if pull_request:
                issue["pull_request"] = {"url": f"{self.url}/repos/{full_name}/pulls/{number}",
                                         "html_url": issue["html_url"]}
            self.issues[full_name].append(issue)
            for text in comments:
                self.comment_issue(full_name, number, text)
            return number

    def comment_issue(self, full_name: str, number: int, body: str, login: str = "hubot") -> None:
        with self._lock:
            issue = self._issue(full_name, number)
            at = self._tick()
            comment_id = next(self._ids)
            issue["_comments"].append({"id": comment_id, "body": body, "user": {"login": login},
                                       "html_url": f"{issue['html_url']}#issuecomment-{comment_id}",
                                       "created_at": at, "updated_at": at, "author_association": "MEMBER"})
            issue["updated_at"] = at

    def update_issue(self, full_name: str, number: int, **fields: Any) -> None:
        with self._lock:
            issue = self._issue(full_name, number)
            issue.update(fields, updated_at=self._tick())
            if fields.get("state") == "closed":
                issue["closed_at"] = issue["updated_at"]
                issue["state_reason"] = fields.get("state_reason", "completed")

    def delete_issue(self, full_name: str, number: int) -> None:
        with self._lock:
            self.issues[full_name].remove(self._issue(full_name, number))

    def add_discussion(self, full_name: str, title: str, body: str = "", *, comments: list[str] = (),
                       answer: int | None = None, category: str = "Q&A", closed: bool = False) -> int:
        """A discussion with `comments`; `answer` is the index of the one marked as the answer."""
        with self._lock:
            number = self._next_number(full_name)
            at = self._tick()
            url = f"{self.url}/{full_name}/discussions/{number}"
            made = [{"id": f"DC_{number}_{i}", "body": text, "url": f"{url}#discussioncomment-{i}",
                     "createdAt": at, "isAnswer": i == answer, "author": {"login": "hubot"}}
                    for i, text in enumerate(comments)]
            self.discussions[full_name].append({
                "id": f"D_{number}", "number": number, "title": title, "body": body, "url": url,
                "createdAt": at, "updatedAt": at, "closed": closed,
                "isAnswered": answer is not None if category == "Q&A" else None,
                "answer": made[answer] if answer is not None else None,
                "answerChosenAt": at if answer is not None else None,
                "author": {"login": "octocat"}, "category": {"name": category, "isAnswerable": category == "Q&A"},
                "_comments": made})
            return number

    def add_app(self, app_id: str, public_key_pem: bytes, installation_id: str) -> None:
        """A GitHub App whose JWTs verify with `public_key_pem`, installed as `installation_id`."""
        self.apps[str(app_id)] = {"public_key": public_key_pem, "installation": str(installation_id)}

    def fail_next(self, route: str, status: int, message: str, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """The next `times` requests to `route` (a ROUTES template, e.g. "GET /repos/{owner}/{repo}")
        answer `status` with GitHub's {"message", "documentation_url"}."""
        reply = Reply.json({"message": message, "documentation_url": DOCS}, status, headers)
        with self._lock:
            self._faults.extend([(route, reply)] * times)

    def secondary_rate_limit(self, route: str, retry_after: int = 1, times: int = 1) -> None:
        self.fail_next(route, 403, "You have exceeded a secondary rate limit. Please wait a few minutes "
                       "before you try again.", {"Retry-After": str(retry_after)}, times)

    def primary_rate_limit(self, route: str, reset_in: int = 1, times: int = 1) -> None:
        reset = str(int(time.time()) + reset_in)
        self.fail_next(route, 403, "API rate limit exceeded for installation.",
                       {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset, "x-ratelimit-limit": "5000"},
                       times)

    # --- GitHub's side of webhooks ---

    def push_event(self, full_name: str, before: str, after: str, *, secret: str | None,
                   branch: str | None = None, delivery: str = "1") -> tuple[bytes, dict[str, str]]:
        """A `push` delivery for the commits from `before` to `after` (the files they touched, as
        one commit of the payload lists them) and its headers, signed with `secret` (None: unsigned)."""
        repo = self.repos[full_name]
        touched = repo.diff(before, after)
        owner = full_name.split("/")[0]
        payload = {
            "ref": f"refs/heads/{branch or repo.default_branch}", "before": before, "after": after,
            "created": False, "deleted": False, "forced": False,
            "repository": {"id": 1, "name": full_name.split("/")[1], "full_name": full_name,
                           "owner": {"login": owner, "name": owner}, "default_branch": repo.default_branch,
                           "html_url": f"{self.url}/{full_name}", "private": full_name in self.private},
            "pusher": {"name": "octocat"}, "sender": {"login": "octocat"},
            "commits": [{"id": after, "message": repo.commits[after].message, **touched}],
            "head_commit": {"id": after, "message": repo.commits[after].message, **touched},
        }
        body = json.dumps(payload).encode()
        return body, self.delivery_headers("push", body, secret, delivery)

    @staticmethod
    def delivery_headers(event: str, body: bytes, secret: str | None, delivery: str = "1") -> dict[str, str]:
        headers = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                   "User-Agent": "GitHub-Hookshot/fake"}
        if secret is not None:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        return headers

    # --- inspection ---

    def count(self, route: str) -> int:
        with self._lock:
            return self.counts[route]

    # --- dispatch ---

    def handle(self, request: Request, query: dict[str, str]) -> Reply:
        for method, template, name, pattern in _COMPILED:
            match = pattern.match(request.path)
            if method == request.method and match:
                route = f"{method} {template.replace('+}', '}')}"
                break
        else:
            return _error(404, "Not Found")
        with self._lock:
            self.counts[route] += 1
            fault = next((f for f in self._faults if f[0] == route), None)
            if fault:
                self._faults.remove(fault)
                return fault[1]
        if name == "installation_token":
            return self.installation_token(request, match["installation"])
        token = request.headers.get("authorization", "").partition(" ")[2]
        if token and token not in self.tokens:
            return _error(401, "Bad credentials")
        if name == "graphql":
            if not token:
                return _error(401, "This endpoint requires you to be authenticated.")
            return Reply.json(github_graphql.execute(request.body, self._graphql_repository))
        params = {key: unquote(value) for key, value in match.groupdict().items()}
        full_name = f"{params.pop('owner')}/{params.pop('repo')}"
        with self._lock:
            repo = self.repos.get(full_name)
            if repo is None or (full_name in self.private and not token):
                return _error(404, "Not Found")
            return getattr(self, name)(repo, request, query, **params)

    def _graphql_repository(self, full_name: str) -> dict | None:
        repo = self.repos.get(full_name)
        if repo is None:
            return None
        return {"nameWithOwner": full_name, "hasDiscussionsEnabled": True,
                "_discussions": list(self.discussions[full_name])}

    # --- git data ---

    def get_repo(self, repo: GitRepo, request: Request, query: dict) -> Reply:
        owner, name = repo.full_name.split("/")
        return Reply.json({"id": 1, "node_id": "R_1", "name": name, "full_name": repo.full_name,
                           "owner": {"login": owner}, "private": repo.full_name in self.private,
                           "html_url": f"{self.url}/{repo.full_name}", "default_branch": repo.default_branch,
                           "has_issues": True, "has_wiki": True, "has_discussions": True,
                           "permissions": {"pull": True, "push": True, "admin": False}})

    def get_branch(self, repo: GitRepo, request: Request, query: dict, branch: str) -> Reply:
        if branch not in repo.branches:
            return _error(404, "Branch not found")
        commit = repo.commits[repo.branches[branch]]
        return Reply.json({"name": branch, "commit": self._commit_json(repo, commit), "protected": False})

    def get_commit(self, repo: GitRepo, request: Request, query: dict, ref: str) -> Reply:
        commit = repo.resolve(ref)
        if commit is None or commit.tree_sha == ref:
            return _error(422, f"No commit found for SHA: {ref}")
        return Reply.json(self._commit_json(repo, commit, files=True))

    def get_ref(self, repo: GitRepo, request: Request, query: dict, ref: str) -> Reply:
        branch = ref.removeprefix("heads/")
        if not ref.startswith("heads/") or branch not in repo.branches:
            return _error(404, "Not Found")
        return Reply.json(self._ref_json(repo, branch))

    def get_tree(self, repo: GitRepo, request: Request, query: dict, sha: str) -> Reply:
        commit = repo.resolve(sha)
        if commit is None:
            return _error(404, "Not Found")
        entries = repo.tree_entries(commit, recursive="recursive" in query)
        for entry in entries:
            entry["url"] = f"{self.url}/repos/{repo.full_name}/git/{entry['type']}s/{entry['sha']}"
        return Reply.json({"sha": commit.tree_sha, "url": f"{self.url}/repos/{repo.full_name}/git/trees/{commit.tree_sha}",
                           "tree": entries, "truncated": False})

    def get_blob(self, repo: GitRepo, request: Request, query: dict, sha: str) -> Reply:
        data = self.blobs.get(sha)
        if data is None:
            return _error(404, "Not Found")
        if "raw" in request.headers.get("accept", ""):
            return Reply(200, data, {"Content-Type": "application/vnd.github.raw"})
        return Reply.json({"sha": sha, "node_id": f"B_{sha[:8]}", "size": len(data),
                           "url": f"{self.url}/repos/{repo.full_name}/git/blobs/{sha}",
                           "content": base64.encodebytes(data).decode(), "encoding": "base64"})

    def create_ref(self, repo: GitRepo, request: Request, query: dict) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        ref, sha = body.get("ref"), body.get("sha")
        if not isinstance(ref, str) or not isinstance(sha, str):
            return _invalid("ref" if not isinstance(ref, str) else "sha")
        if not ref.startswith("refs/") or ref.count("/") < 2:
            return _error(422, "Reference name must start with 'refs/' and have at least two slashes.")
        branch = ref.removeprefix("refs/heads/")
        if branch in repo.branches:
            return _error(422, "Reference already exists")
        if sha not in repo.commits:
            return _error(422, "Object does not exist")
        repo.branches[branch] = sha
        return Reply.json(self._ref_json(repo, branch), 201,
                          {"Location": f"{self.url}/repos/{repo.full_name}/git/refs/heads/{branch}"})

    def update_ref(self, repo: GitRepo, request: Request, query: dict, ref: str) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        branch, sha = ref.removeprefix("heads/"), body.get("sha")
        if not isinstance(sha, str):
            return _invalid("sha")
        if branch not in repo.branches:
            return _error(422, "Reference does not exist")
        if sha not in repo.commits:
            return _error(422, "Object does not exist")
        if not body.get("force") and not repo.descends(sha, repo.branches[branch]):
            return _error(422, "Update is not a fast forward")
        repo.branches[branch] = sha
        return Reply.json(self._ref_json(repo, branch))

    def delete_ref(self, repo: GitRepo, request: Request, query: dict, ref: str) -> Reply:
        branch = ref.removeprefix("heads/")
        if branch not in repo.branches:
            return _error(422, "Reference does not exist")
        del repo.branches[branch]
        return Reply(204)

    # --- contents ---

    def get_contents(self, repo: GitRepo, request: Request, query: dict, path: str = "") -> Reply:
        commit = repo.resolve(query.get("ref") or repo.default_branch)
        if commit is None:
            return _error(404, f"No commit found for the ref {query.get('ref')}")
        path = path.strip("/")
        if path in commit.files:
            if "raw" in request.headers.get("accept", ""):
                return Reply(200, self.blobs[commit.files[path]], {"Content-Type": "application/vnd.github.raw"})
            return Reply.json(self._content_json(repo, commit, path, with_content=True))
        prefix = f"{path}/" if path else ""
        below = {p.removeprefix(prefix).split("/")[0] for p in commit.files if p.startswith(prefix)}
        if not below:
            return _error(404, "Not Found")
        listing = []
        for name in sorted(below):
            child = prefix + name
            if child in commit.files:
                listing.append(self._content_json(repo, commit, child))
            else:
                listing.append({"type": "dir", "name": name, "path": child, "sha": hashlib.sha1(child.encode()).hexdigest(),
                                "size": 0, "html_url": f"{self.url}/{repo.full_name}/tree/{repo.default_branch}/{child}"})
        return Reply.json(listing)

    def put_contents(self, repo: GitRepo, request: Request, query: dict, path: str) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        for key in ("message", "content"):
            if not isinstance(body.get(key), str):
                return _invalid(key)
        try:
            data = base64.b64decode(body["content"], validate=True)
        except (binascii.Error, ValueError):
            return _error(422, "content is not valid Base64")
        branch = body.get("branch") or repo.default_branch
        if branch not in repo.branches:
            return _error(404, f"Branch {branch} not found")
        current = repo.commits[repo.branches[branch]].files.get(path)
        if current and not body.get("sha"):
            return _error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if body.get("sha") and body["sha"] != current:
            return _error(409, f"{path} does not match {body['sha']}")
        commit = repo.commit(branch, {path: data}, body["message"], self._tick())
        return Reply.json({"content": self._content_json(repo, commit, path),
                           "commit": self._commit_json(repo, commit)["commit"] | {"sha": commit.sha}},
                          200 if current else 201)

    # --- issues ---

    def list_issues(self, repo: GitRepo, request: Request, query: dict) -> Reply:
        state = query.get("state", "open")
        found = [i for i in self.issues[repo.full_name]
                 if state == "all" or i["state"] == state]
        if query.get("since"):
            found = [i for i in found if i["updated_at"] >= query["since"]]
        key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}.get(query.get("sort", "created"))
        found.sort(key=lambda i: len(i["_comments"]) if key == "comments" else i[key],
                   reverse=query.get("direction", "desc") == "desc")
        return self._paged(request, query, [_public(i, comments=len(i["_comments"])) for i in found])

    def list_comments(self, repo: GitRepo, request: Request, query: dict, number: str) -> Reply:
        issue = next((i for i in self.issues[repo.full_name] if str(i["number"]) == number), None)
        if issue is None:
            return _error(404, "Not Found")
        return self._paged(request, query, list(issue["_comments"]))

    # --- pull requests ---

    def list_pulls(self, repo: GitRepo, request: Request, query: dict) -> Reply:
        state = query.get("state", "open")
        found = [p for p in self._pulls(repo) if state == "all" or p["state"] == state]
        if query.get("head"):
            found = [p for p in found if p["head"]["label"] == query["head"]]
        if query.get("base"):
            found = [p for p in found if p["base"]["ref"] == query["base"]]
        found.sort(key=lambda p: p["created_at"], reverse=query.get("direction", "desc") == "desc")
        return self._paged(request, query, found)

    def create_pull(self, repo: GitRepo, request: Request, query: dict) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        for key in ("head", "base"):
            if not isinstance(body.get(key), str):
                return _validation("PullRequest", key, "missing_field")
        if not body.get("title") and not body.get("issue"):
            return _validation("PullRequest", "title", "missing_field")
        owner = repo.full_name.split("/")[0]
        head, base = body["head"].removeprefix(f"{owner}:"), body["base"]
        if head not in repo.branches:
            return _validation("PullRequest", "head", "invalid")
        if base not in repo.branches:
            return _validation("PullRequest", "base", "invalid")
        if repo.descends(repo.branches[base], repo.branches[head]):
            return _validation("PullRequest", None, "custom", f"No commits between {base} and {head}")
        if any(p["state"] == "open" and p["head"]["ref"] == head and p["base"]["ref"] == base
               for p in self._pulls(repo)):
            return _validation("PullRequest", None, "custom", f"A pull request already exists for {owner}:{head}.")
        number = self._next_number(repo.full_name)
        at = self._tick()
        html_url = f"{self.url}/{repo.full_name}/pull/{number}"
        pull = {"id": next(self._ids), "number": number, "title": body.get("title", ""), "body": body.get("body"),
                "state": "open", "draft": bool(body.get("draft")), "merged": False, "html_url": html_url,
                "url": f"{self.url}/repos/{repo.full_name}/pulls/{number}", "user": {"login": "morningai[bot]"},
                "head": {"ref": head, "sha": repo.branches[head], "label": f"{owner}:{head}",
                         "repo": {"full_name": repo.full_name}},
                "base": {"ref": base, "sha": repo.branches[base], "label": f"{owner}:{base}",
                         "repo": {"full_name": repo.full_name}},
                "created_at": at, "updated_at": at, "closed_at": None}
        # A pull request is an issue too: the issues API lists it with a pull_request key.
        self.issues[repo.full_name].append({**pull, "state_reason": None, "labels": [], "_comments": [],
                                            "pull_request": {"url": pull["url"], "html_url": html_url}})
        return Reply.json(pull, 201, {"Location": pull["url"]})

    def get_pull(self, repo: GitRepo, request: Request, query: dict, number: str) -> Reply:
        pull = next((p for p in self._pulls(repo) if str(p["number"]) == number), None)
        return Reply.json(pull) if pull else _error(404, "Not Found")

    def update_pull(self, repo: GitRepo, request: Request, query: dict, number: str) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        issue = next((i for i in self.issues[repo.full_name]
                      if str(i["number"]) == number and "pull_request" in i), None)
        if issue is None:
            return _error(404, "Not Found")
        if body.get("state") not in (None, "open", "closed"):
            return _validation("PullRequest", "state", "invalid")
        if body.get("base") is not None and body["base"] not in repo.branches:
            return _validation("PullRequest", "base", "invalid")
        for key in ("title", "body", "state"):
            if key in body:
                issue[key] = body[key]
        if body.get("base"):
            issue["base"] = {**issue["base"], "ref": body["base"], "sha": repo.branches[body["base"]]}
        issue["updated_at"] = self._tick()
        issue["closed_at"] = issue["updated_at"] if issue["state"] == "closed" else None
        return self.get_pull(repo, request, query, number)

    def _pulls(self, repo: GitRepo) -> list[dict]:
        """Pull requests as the pulls API shows them: the head's sha as the branch has it now."""
        pulls = []
        for issue in self.issues[repo.full_name]:
            if "pull_request" in issue and "head" in issue:
                pull = {k: v for k, v in issue.items() if k not in ("_comments", "pull_request", "state_reason", "labels")}
                head = pull["head"]
                pull["head"] = {**head, "sha": repo.branches.get(head["ref"], head["sha"])}
                pulls.append(pull)
        return pulls

    # --- GitHub Apps ---

    def installation_token(self, request: Request, installation: str) -> Reply:
        import jwt  # PyJWT, with cryptography for RS256: verifies as GitHub does

        assertion = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            app_id = str(jwt.decode(assertion, options={"verify_signature": False})["iss"])
            app = self.apps[app_id]
            jwt.decode(assertion, app["public_key"], algorithms=["RS256"], leeway=60)
        except (jwt.PyJWTError, KeyError):
            return _error(401, "A JSON web token could not be decoded")
        if app["installation"] != installation:
            return _error(404, "Not Found")
        token = f"ghs_{hashlib.sha1(f'{installation}{next(self._ids)}'.encode()).hexdigest()[:36]}"
        with self._lock:
            self.tokens.add(token)
            self.issued[token] = installation
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Reply.json({"token": token, "expires_at": expires, "permissions": {"contents": "read"},
                           "repository_selection": "all"}, 201)

    # --- shapes ---

    def _commit_json(self, repo: GitRepo, commit: Commit, files: bool = False) -> dict:
        author = {"name": "Octo Cat", "email": "octocat@example.com", "date": commit.date}
        found = {"sha": commit.sha, "node_id": f"C_{commit.sha[:8]}",
                 "url": f"{self.url}/repos/{repo.full_name}/commits/{commit.sha}",
                 "html_url": f"{self.url}/{repo.full_name}/commit/{commit.sha}",
                 "commit": {"message": commit.message, "author": author, "committer": author,
                            "tree": {"sha": commit.tree_sha,
                                     "url": f"{self.url}/repos/{repo.full_name}/git/trees/{commit.tree_sha}"}},
                 "parents": [{"sha": commit.parent}] if commit.parent else []}
        if files:
            touched = repo.diff(commit.parent, commit.sha)
            found["files"] = [{"filename": path, "status": status, "sha": commit.files.get(path)}
                              for status in ("added", "modified", "removed") for path in touched[status]]
        return found

    def _ref_json(self, repo: GitRepo, branch: str) -> dict:
        sha = repo.branches[branch]
        return {"ref": f"refs/heads/{branch}", "node_id": f"REF_{branch}",
                "url": f"{self.url}/repos/{repo.full_name}/git/refs/heads/{branch}",
                "object": {"type": "commit", "sha": sha, "url": f"{self.url}/repos/{repo.full_name}/git/commits/{sha}"}}

    def _content_json(self, repo: GitRepo, commit: Commit, path: str, with_content: bool = False) -> dict:
        sha = commit.files[path]
        branch = next((b for b, head in repo.branches.items() if head == commit.sha), commit.sha)
        found = {"type": "file", "name": path.rsplit("/", 1)[-1], "path": path, "sha": sha,
                 "size": len(self.blobs[sha]),
                 "url": f"{self.url}/repos/{repo.full_name}/contents/{quote(path)}?ref={branch}",
                 "html_url": f"{self.url}/{repo.full_name}/blob/{branch}/{quote(path)}",
                 "git_url": f"{self.url}/repos/{repo.full_name}/git/blobs/{sha}",
                 "download_url": f"{self.url}/raw/{repo.full_name}/{branch}/{quote(path)}"}
        if with_content:
            found.update(encoding="base64", content=base64.encodebytes(self.blobs[sha]).decode())
        return found

    def _paged(self, request: Request, query: dict, items: list) -> Reply:
        """A page of `items` with GitHub's Link header (per_page up to 100, 30 by default)."""
        per_page = max(1, min(100, int(query.get("per_page") or 30)))
        page = max(1, int(query.get("page") or 1))
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, number in (("next", page + 1), ("last", last)) if page < last else ():
            links.append((rel, number))
        for rel, number in (("prev", page - 1), ("first", 1)) if page > 1 else ():
            links.append((rel, number))
        link = ", ".join(f'<{self.url}{request.path}?{urlencode({**query, "per_page": per_page, "page": number})}>; '
                         f'rel="{rel}"' for rel, number in links)
        headers = {"Link": link} if link else {}
        return Reply.json(items[(page - 1) * per_page: page * per_page], headers=headers)

    def _issue(self, full_name: str, number: int) -> dict:
        return next(i for i in self.issues[full_name] if i["number"] == number)

    def _next_number(self, full_name: str) -> int:
        # Issues, pull requests and discussions share one sequence of numbers, as on GitHub.
        return 1 + len(self.issues[full_name]) + len(self.discussions[full_name])

    def _tick(self) -> str:
        """The fake's clock: a minute later at every change, so `since` and `updated_at` order."""
        with self._lock:
            self._clock += timedelta(minutes=1)
            return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")


def _public(issue: dict, **extra: Any) -> dict:
    return {**{k: v for k, v in issue.items() if not k.startswith("_")}, **extra}


def _error(status: int, message: str) -> Reply:
    return Reply.json({"message": message, "documentation_url": DOCS}, status)


def _invalid(field: str) -> Reply:
    return _error(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')


def _validation(resource: str, field: str | None, code: str, message: str | None = None) -> Reply:
    error = {"resource": resource, "code": code, **({"field": field} if field else {}),
             **({"message": message} if message else {})}
    return Reply.json({"message": "Validation Failed", "errors": [error], "documentation_url": DOCS}, 422)


def _handler_for(server: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(KeepAliveHandler):

        def do_GET(self):
            self._serve()

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def _serve(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _, query = self.path.partition("?")
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            request = Request(self.command, path, {k.lower(): v for k, v in self.headers.items()}, body)
            if isinstance(body, bytes):
                reply = _error(400, "Problems parsing JSON")
            else:
                reply = server.handle(request, {k: v[-1] for k, v in parse_qs(query).items()})
            with server._lock:
                server.requests.append(request)
            self.send_response(reply.status)
            headers = {"x-ratelimit-limit": str(server.rate_limit), "x-ratelimit-remaining": str(server.rate_limit - 1),
                       "x-ratelimit-reset": str(int(time.time()) + 3600), "x-ratelimit-resource": "core",
                       **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        def log_message(self, format, *args):
            pass

    return Handler
