import { vi } from "vitest";

type Route = (init: RequestInit) => { status?: number; body?: unknown };

/** Replace fetch with answers keyed by "METHOD /path"; returns the mock to inspect calls. */
export function fakeApi(routes: Record<string, Route>) {
  const mock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://hub.test");
    const key = `${(init.method ?? "GET").toUpperCase()} ${url.pathname}`;
    const route = routes[key];
    if (!route) return new Response(JSON.stringify({ error: `no fake for ${key}` }), { status: 404 });
    const { status = 200, body = {} } = route(init);
    return new Response(status === 204 ? null : JSON.stringify(body), { status });
  });
  vi.stubGlobal("fetch", mock);
  return mock;
}
