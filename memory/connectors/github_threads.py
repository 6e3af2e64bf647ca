"""A GitHub repository's conversations as documents: an issue (pull requests left out) or a
discussion is one Markdown document with its comments, versioned by its last update. Closed
issues resolved as completed and answered discussions go first: they hold the answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memory.connectors import Fetched, Item
from memory.documents import Unreadable

if TYPE_CHECKING:
    from memory.connectors.github import GitHub

ANSWERED, OPEN, UNANSWERED = 1, 2, 3  # priorities, after the repository's files (0)

_DISCUSSIONS = """
query($owner: String!, $name: String!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussions(first: 100, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes { number title url updatedAt isAnswered }
    }
  }
}"""
_DISCUSSION = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussion(number: $number) {
      number title body url updatedAt closed isAnswered
      author { login }
      category { name }
      comments(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { body createdAt isAnswer author { login } }
      }
    }
  }
}"""


def issue_items(github: GitHub, since: str | None) -> tuple[list[Item], str | None]:
    """The repository's issues (those updated since `since`, when given) and the latest update
    seen, for the next listing's `since`."""
    params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 100}
    if since:
        params["since"] = since
    items, latest = [], since
    for page in github.pages(f"repos/{github.repo}/issues", params):
        for issue in page:
            latest = max(latest or "", issue["updated_at"])
            if "pull_request" in issue:  # the issues API lists pull requests too
                continue
            if issue["state"] == "closed":
                priority = ANSWERED if issue.get("state_reason") in (None, "completed") else UNANSWERED
            else:
                priority = OPEN
            items.append(Item(issue["html_url"], issue["updated_at"], _issue_fetcher(github, issue),
                              title=f"{issue['title']} (#{issue['number']})", priority=priority))
    return items, latest


def _issue_fetcher(github: GitHub, issue: dict[str, Any]):
    def fetch(known: str | None) -> Fetched:
        comments = []
        if issue.get("comments"):
            for page in github.pages(f"repos/{github.repo}/issues/{issue['number']}/comments", {"per_page": 100}):
                comments += page
        state = issue["state"] + (f", {issue['state_reason']}" if issue.get("state_reason") else "")
        labels = ", ".join(label["name"] for label in issue.get("labels") or [])
        lines = [f"# {issue['title']}", "",
                 f"Issue #{issue['number']} in {github.repo} ({state}), opened by @{_login(issue.get('user'))}"
                 + (f"; labels: {labels}" if labels else "") + ".", "", issue.get("body") or ""]
        for comment in comments:
            lines += ["", f"## @{_login(comment.get('user'))} commented", "", comment.get("body") or ""]
        return Fetched("\n".join(lines).encode(), "text/markdown", title=f"{issue['title']} (#{issue['number']})",
                       metadata={"repository": github.repo, "issue": issue["number"], "state": issue["state"]})

    return fetch


def discussion_items(github: GitHub, since: str | None) -> tuple[list[Item], str | None]:
    """The repository's discussions (updated since `since`, when given: they come newest first,
    so paging stops at the first older one) and the latest update seen."""
    owner, name = github.repo.split("/")
    items, latest, after = [], since, None
    while True:
        found = github.graphql(_DISCUSSIONS, {"owner": owner, "name": name, "after": after})
        connection = (found.get("repository") or {}).get("discussions") or {}
        for node in connection.get("nodes") or []:
            if since and node["updatedAt"] < since:
                return items, latest
            latest = max(latest or "", node["updatedAt"])
            items.append(Item(node["url"], node["updatedAt"], _discussion_fetcher(github, node["number"]),
                              title=f"{node['title']} (#{node['number']})",
                              priority=ANSWERED if node.get("isAnswered") else OPEN))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return items, latest
        after = page["endCursor"]


def _discussion_fetcher(github: GitHub, number: int):
    owner, name = github.repo.split("/")

    def fetch(known: str | None) -> Fetched:
        comments, after = [], None
        while True:
            found = github.graphql(_DISCUSSION, {"owner": owner, "name": name, "number": number, "after": after})
            discussion = (found.get("repository") or {}).get("discussion")
            if discussion is None:
                raise Unreadable(f"discussion #{number} is gone")
            comments += discussion["comments"]["nodes"] or []
            if not discussion["comments"]["pageInfo"]["hasNextPage"]:
                break
            after = discussion["comments"]["pageInfo"]["endCursor"]
        status = "answered" if discussion.get("isAnswered") else "closed" if discussion.get("closed") else "open"
        lines = [f"# {discussion['title']}", "",
                 (f"Discussion #{number} in {github.repo} ({(discussion.get('category') or {}).get('name', '')}, "
                 f"{status}), started by @{_login(discussion.get('author'))}."), "", discussion.get("body") or ""]
        # The accepted answer first: it is what a question to the hub most likely needs.
        for comment in sorted(comments, key=lambda c: not c.get("isAnswer")):
            heading = "Accepted answer" if comment.get("isAnswer") else "Comment"
            lines += ["", f"## {heading} by @{_login(comment.get('author'))}", "", comment.get("body") or ""]
        return Fetched("\n".join(lines).encode(), "text/markdown", title=f"{discussion['title']} (#{number})",
                       metadata={"repository": github.repo, "discussion": number, "answered": bool(discussion.get("isAnswered"))})

    return fetch


def _login(actor: dict[str, Any] | None) -> str:
    return (actor or {}).get("login") or "ghost"
