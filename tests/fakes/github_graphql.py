"""The fake GitHub's GraphQL endpoint: the part of GitHub's schema that reads discussions,
executed by graphql-core, so a query asking for a field GitHub does not have fails here as it
would there (HTTP 200 with `errors`)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, build_schema, graphql_sync

SCHEMA = build_schema("""
scalar DateTime
enum OrderDirection { ASC DESC }
enum DiscussionOrderField { CREATED_AT UPDATED_AT }
input DiscussionOrder { field: DiscussionOrderField! direction: OrderDirection! }
type Query {
  repository(owner: String!, name: String!): Repository
  rateLimit: RateLimit
}
type RateLimit { cost: Int! limit: Int! remaining: Int! resetAt: DateTime! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! endCursor: String startCursor: String }
interface Actor { login: String! }
type User implements Actor { login: String! }
type Repository {
  nameWithOwner: String!
  hasDiscussionsEnabled: Boolean!
  discussions(first: Int, after: String, orderBy: DiscussionOrder, answered: Boolean): DiscussionConnection!
  discussion(number: Int!): Discussion
}
type DiscussionConnection { totalCount: Int! pageInfo: PageInfo! nodes: [Discussion] }
type DiscussionCategory { name: String! isAnswerable: Boolean! }
type Discussion {
  id: ID! number: Int! title: String! body: String! url: String!
  createdAt: DateTime! updatedAt: DateTime! closed: Boolean!
  isAnswered: Boolean answer: DiscussionComment answerChosenAt: DateTime
  author: Actor category: DiscussionCategory!
  comments(first: Int, after: String): DiscussionCommentConnection!
}
type DiscussionCommentConnection { totalCount: Int! pageInfo: PageInfo! nodes: [DiscussionComment] }
type DiscussionComment { id: ID! body: String! url: String! createdAt: DateTime! isAnswer: Boolean! author: Actor }
""")


def _page(items: list, first: int | None, after: str | None) -> dict[str, Any]:
    """A connection's page, with GitHub's limit of 100 records and opaque cursors."""
    if first is None:
        raise GraphQLError("You must provide a `first` or `last` value to properly paginate.")
    if not 1 <= first <= 100:
        raise GraphQLError(f"Requesting {first} records on the connection exceeds the `first` limit of 100 records.")
    start = int(base64.b64decode(after).decode().removeprefix("cursor:")) if after else 0
    nodes = items[start:start + first]
    end = start + len(nodes)
    return {"totalCount": len(items), "nodes": nodes,
            "pageInfo": {"hasNextPage": end < len(items), "hasPreviousPage": start > 0,
                         "startCursor": _cursor(start) if nodes else None,
                         "endCursor": _cursor(end) if nodes else None}}


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _discussions(repository: dict, info, first=None, after=None, orderBy=None, answered=None) -> dict:
    found = [d for d in repository["_discussions"] if answered is None or d["isAnswered"] == answered]
    order = orderBy or {"field": "UPDATED_AT", "direction": "DESC"}
    key = "createdAt" if order["field"] == "CREATED_AT" else "updatedAt"
    found.sort(key=lambda d: d[key], reverse=order["direction"] == "DESC")
    return _page(found, first, after)


def _comments(discussion: dict, info, first=None, after=None) -> dict:
    return _page(discussion["_comments"], first, after)


SCHEMA.query_type.fields["repository"].resolve = lambda root, info, owner, name: root(f"{owner}/{name}")
SCHEMA.type_map["Repository"].fields["discussions"].resolve = _discussions
SCHEMA.type_map["Repository"].fields["discussion"].resolve = lambda repo, info, number: next(
    (d for d in repo["_discussions"] if d["number"] == number), None)
SCHEMA.type_map["Discussion"].fields["comments"].resolve = _comments
SCHEMA.type_map["Actor"].resolve_type = lambda value, info, kind: "User"


def execute(body: Any, repository: Callable[[str], dict | None]) -> dict[str, Any]:
    """GitHub's answer to a GraphQL request body; `repository(full_name)` gives the repository's
    fields (with `_discussions`) or None. A repository not found is an error beside null data,
    as GitHub answers it."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return {"errors": [{"message": "A query attribute must be specified and must be a string."}]}

    def find(full_name: str) -> dict | None:
        found = repository(full_name)
        if found is None:
            raise GraphQLError(f"Could not resolve to a Repository with the name '{full_name}'.",
                               extensions={"type": "NOT_FOUND"})
        return found

    result = graphql_sync(SCHEMA, body["query"], root_value=find, variable_values=body.get("variables"))
    answer: dict[str, Any] = {}
    if result.data is not None:
        answer["data"] = result.data
    if result.errors:
        answer["errors"] = [_github_error(error) for error in result.errors]
    return answer


def _github_error(error: GraphQLError) -> dict[str, Any]:
    formatted = dict(error.formatted)
    kind = (formatted.pop("extensions", None) or {}).get("type")
    return {**({"type": kind} if kind else {}), **formatted}
