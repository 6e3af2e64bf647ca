import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api } from "../api";
import { CoverageGaps, type Support, SupportFigures } from "../components/SupportNumbers";
import { Button, Card, EmptyState, ErrorNote, PageHeader, StatusBadge } from "../components/ui";

interface Health {
  status: string;
  postgres: string;
  redis: string;
  migrations: string | string[];
  problems: string[];
  workers: { name: string; state: string; last_heartbeat: string | null; alive: boolean; in_flight: number }[];
  queues: Record<string, { queued: number; running: number; failed: number }>;
}

interface Analytics {
  totals: { tasks: number; posted: number; failed: number; waiting: number; p50_seconds: number | null; p95_seconds: number | null; cost_usd: number };
  per_hour: { hour: string; slack: number; discord: number; web: number; p50_seconds: number | null; p95_seconds: number | null }[];
  top_questions: { text: string; count: number; askers: number }[];
  feedback: Votes;
  support: Support;
}

interface Votes {
  bucket: "hour" | "day";
  series: { at: string; up: number; down: number }[];
  up: number;
  down: number;
}

interface FailedJob {
  id: string;
  queue: string;
  function: string;
  failed_at: string | null;
  error: string | null;
}

const hourLabel = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const dayLabel = (iso: string) => new Date(iso).toLocaleDateString([], { month: "short", day: "numeric" });
const seconds = (value: number | null) => (value == null ? "—" : `${value.toFixed(2)} s`);
const helpful = (up: number, down: number) => (up + down === 0 ? null : Math.round((100 * up) / (up + down)));

/** Votes per hour (or day) as stacked bars, with the share of 👍 as a line where there were votes. */
export function VotesChart({ votes }: { votes: Votes }) {
  if (votes.up + votes.down === 0) {
    return (
      <p className="text-sm text-slate-600">
        No votes yet in this window. People vote with the 👍/👎 buttons under every answer in Slack and Discord; the
        answers they vote on wait for you on the <Link className="text-indigo-700 underline" to="/feedback">Feedback</Link> page.
      </p>
    );
  }
  const label = votes.bucket === "hour" ? hourLabel : dayLabel;
  const data = votes.series.map((point) => ({ ...point, at: label(point.at), helpful: helpful(point.up, point.down) }));
  return (
    <>
      <p className="mb-2 text-sm text-slate-600">
        {votes.up} 👍 · {votes.down} 👎 · {helpful(votes.up, votes.down)}% helpful ·{" "}
        <Link className="text-indigo-700 underline" to="/feedback">review them</Link>
      </p>
      <ResponsiveContainer width="100%" height={240}>
        <ComposedChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="at" fontSize={11} />
          <YAxis yAxisId="votes" allowDecimals={false} fontSize={11} />
          <YAxis yAxisId="share" orientation="right" domain={[0, 100]} unit="%" fontSize={11} />
          <Tooltip />
          <Legend />
          <Bar yAxisId="votes" dataKey="up" name="👍 helpful" stackId="v" fill="#15803d" isAnimationActive={false} />
          <Bar yAxisId="votes" dataKey="down" name="👎 not helpful" stackId="v" fill="#b91c1c" isAnimationActive={false} />
          <Line yAxisId="share" dataKey="helpful" name="% 👍" stroke="#4338ca" connectNulls isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </>
  );
}

export function Overview() {
  const [health, setHealth] = useState<Health | null>(null);
  const [analytics, setAnalytics] = useState<Analytics | null>(null);
  const [failed, setFailed] = useState<FailedJob[]>([]);
  const [error, setError] = useState<unknown>(null);

  async function load() {
    try {
      const [h, a, f] = await Promise.all([
        api<Health>("/api/health"),
        api<Analytics>("/api/analytics?hours=24"),
        api<{ jobs: FailedJob[] }>("/api/queue/failed"),
      ]);
      setHealth(h);
      setAnalytics(a);
      setFailed(f.jobs);
    } catch (caught) {
      setError(caught);
    }
  }

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, []);

  async function requeue(id: string) {
    try {
      await api(`/api/queue/failed/${encodeURIComponent(id)}/requeue`, { method: "POST" });
      await load();
    } catch (caught) {
      setError(caught);
    }
  }

  const chartData = analytics?.per_hour.map((row) => ({ ...row, hour: hourLabel(row.hour) })) ?? [];
  return (
    <>
      <PageHeader title="Overview" />
      <ErrorNote error={error} />
      {health && health.problems.length > 0 && (
        <div role="alert" className="mb-4 rounded border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
          <p className="font-medium">The hub is not ready:</p>
          <ul className="list-disc pl-5">{health.problems.map((problem) => <li key={problem}>{problem}</li>)}</ul>
        </div>
      )}
      <div className="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Card title="PostgreSQL"><StatusBadge status={health?.postgres === "ok" ? "ok" : "error"} /> <span className="text-sm">{health?.postgres ?? "…"}</span></Card>
        <Card title="Redis"><StatusBadge status={health?.redis === "ok" ? "ok" : "error"} /> <span className="text-sm">{health?.redis ?? "…"}</span></Card>
        <Card title="Workers">
          <p className="text-2xl font-semibold">{health?.workers.length ?? "…"}</p>
          <ul className="text-xs text-slate-600">
            {health?.workers.map((w) => (
              <li key={w.name} title={w.name}>{w.state} · {w.in_flight} in flight · heartbeat {w.last_heartbeat ? new Date(w.last_heartbeat).toLocaleTimeString() : "never"}</li>
            ))}
          </ul>
        </Card>
        <Card title="Queues">
          {health && Object.entries(health.queues).map(([name, q]) => (
            <p key={name} className="text-sm"><span className="font-mono">{name}</span>: {q.queued} queued, {q.running} running, {q.failed} failed</p>
          ))}
        </Card>
      </div>
      {analytics && analytics.totals.tasks === 0 ? (
        <EmptyState title="No questions in the last 24 hours">
          Add documents on the <Link className="text-indigo-700 underline" to="/knowledge">Knowledge</Link> page, then ask
          something in the <Link className="text-indigo-700 underline" to="/playground">Playground</Link> or connect
          Slack or Discord on <Link className="text-indigo-700 underline" to="/integrations">Integrations</Link>.
        </EmptyState>
      ) : analytics && (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Tasks per hour by platform">
            <p className="mb-2 text-sm text-slate-600">
              {analytics.totals.tasks} tasks, {analytics.totals.posted} answered, {analytics.totals.failed} failed · p50 {seconds(analytics.totals.p50_seconds)} · p95 {seconds(analytics.totals.p95_seconds)}
            </p>
            <ResponsiveContainer width="100%" height={240}>
              <BarChart data={chartData}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="hour" fontSize={11} />
                <YAxis allowDecimals={false} fontSize={11} />
                <Tooltip />
                <Legend />
                <Bar dataKey="web" stackId="p" fill="#4338ca" isAnimationActive={false} />
                <Bar dataKey="slack" stackId="p" fill="#0f766e" isAnimationActive={false} />
                <Bar dataKey="discord" stackId="p" fill="#b45309" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </Card>
          <Card title="Answer latency (seconds)">
            <ResponsiveContainer width="100%" height={260}>
              <LineChart data={chartData}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="hour" fontSize={11} />
                <YAxis fontSize={11} />
                <Tooltip />
                <Legend />
                <Line dataKey="p50_seconds" name="p50" stroke="#4338ca" connectNulls isAnimationActive={false} />
                <Line dataKey="p95_seconds" name="p95" stroke="#b91c1c" connectNulls isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </Card>
          <Card title="👍/👎 over time">
            <VotesChart votes={analytics.feedback} />
          </Card>
          <Card title="Support desk">
            <SupportFigures support={analytics.support} />
          </Card>
          <Card title="Coverage gaps">
            <CoverageGaps gaps={analytics.support.gaps} />
          </Card>
          <Card title="Top questions">
            <ol className="list-decimal space-y-1 pl-5 text-sm">
              {analytics.top_questions.map((q) => (
                <li key={q.text}>{q.text} <span className="text-slate-600">— asked {q.count}×, by {q.askers}</span></li>
              ))}
            </ol>
          </Card>
        </div>
      )}
      {failed.length > 0 && (
        <Card title="Failed jobs" className="mt-6">
          <ul className="divide-y divide-slate-200 text-sm">
            {failed.map((job) => (
              <li key={job.id} className="flex items-center justify-between gap-3 py-2">
                <span>
                  <span className="font-mono">{job.function}</span> <span className="text-slate-600">{job.error}</span>
                </span>
                <Button variant="secondary" onClick={() => void requeue(job.id)} aria-label={`Requeue job ${job.id}`}>
                  Requeue
                </Button>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}
