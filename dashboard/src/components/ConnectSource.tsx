import { useState, type FormEvent } from "react";
import { api } from "../api";
import { Button, Card, Field, inputClass } from "./ui";

/** One input of a connector's form: a setting (sent as `settings`) or a secret (`credentials`,
 * sealed by the hub and never shown again). A `list` setting is written one item per line. */
interface Input {
  key: string;
  label: string;
  placeholder?: string;
  secret?: boolean;
  optional?: boolean;
  list?: boolean;
  number?: boolean;
}

interface Kind {
  label: string;
  help: string;
  inputs: Input[];
}

export const KINDS: Record<string, Kind> = {
  github: {
    label: "GitHub repository",
    help: "Docs and code at a branch, issues and discussions. A fine-grained token with read access to contents, issues, discussions and metadata.",
    inputs: [
      { key: "repository", label: "Repository", placeholder: "acme/handbook" },
      { key: "branch", label: "Branch (empty: the default branch)", optional: true },
      { key: "include", label: "Only these paths (globs, one per line; empty: docs)", list: true, optional: true, placeholder: "docs/**" },
      { key: "token", label: "Access token", secret: true, placeholder: "github_pat_…" },
      { key: "webhook_secret", label: "Webhook secret (optional: syncs on every push)", secret: true, optional: true },
    ],
  },
  confluence: {
    label: "Confluence space",
    help: "Pages of one space, through the Cloud REST API. An Atlassian API token of an account that can read the space.",
    inputs: [
      { key: "site", label: "Site", placeholder: "https://acme.atlassian.net" },
      { key: "space", label: "Space key", placeholder: "ENG" },
      { key: "root", label: "Only this page and below (page id; empty: the whole space)", optional: true, placeholder: "123456" },
      { key: "email", label: "Account email", secret: true },
      { key: "api_token", label: "API token", secret: true },
    ],
  },
  notion: {
    label: "Notion",
    help: "The pages and databases shared with an internal integration. Its token, with read content access.",
    inputs: [
      { key: "pages", label: "Only these pages and below (links or ids, one per line; empty: everything shared)", list: true, optional: true, placeholder: "https://www.notion.so/acme/Handbook-0123…" },
      { key: "databases", label: "And these databases' rows (links or ids, one per line)", list: true, optional: true },
      { key: "token", label: "Integration token", secret: true, placeholder: "ntn_…" },
    ],
  },
  web: {
    label: "Web site",
    help: "A sitemap, or a start page crawled to a depth under its path. Honours robots.txt; unchanged pages cost nothing.",
    inputs: [
      { key: "url", label: "Sitemap or start page", placeholder: "https://docs.acme.com/sitemap.xml" },
      { key: "depth", label: "Crawl depth (start page only)", number: true, optional: true, placeholder: "2" },
      { key: "prefix", label: "Only pages under this path (empty: the URL's folder)", optional: true, placeholder: "/docs/" },
    ],
  },
};

const SCHEDULES: [string, number | null][] = [
  ["Only when I ask", null],
  ["Every hour", 60],
  ["Every 6 hours", 360],
  ["Every day", 1440],
];

/** The form that adds a source a connector keeps in sync; `onStarted` follows its first sync. */
export function ConnectSource({ workspace, onStarted }: { workspace: string; onStarted: (started: Promise<unknown>) => void }) {
  const [kind, setKind] = useState("github");
  const [values, setValues] = useState<Record<string, string>>({});
  const [schedule, setSchedule] = useState<number | null>(60);
  const chosen = KINDS[kind];

  function submit(event: FormEvent) {
    event.preventDefault();
    const settings: Record<string, unknown> = {};
    const credentials: Record<string, string> = {};
    for (const input of chosen.inputs) {
      const value = (values[input.key] ?? "").trim();
      if (!value) continue;
      if (input.secret) credentials[input.key] = value;
      else if (input.list) settings[input.key] = value.split("\n").map((line) => line.trim()).filter(Boolean);
      else settings[input.key] = input.number ? Number(value) : value;
    }
    onStarted(api("/api/knowledge/sources", {
      method: "POST", json: { kind, settings, credentials, schedule_minutes: schedule, workspace },
    }));
    setValues({});
  }

  return (
    <Card title="Keep a service in sync">
      <form onSubmit={submit}>
        <Field label="Service" id="connector-kind">
          <select id="connector-kind" className={inputClass} value={kind}
                  onChange={(e) => { setKind(e.target.value); setValues({}); }}>
            {Object.entries(KINDS).map(([key, { label }]) => <option key={key} value={key}>{label}</option>)}
          </select>
        </Field>
        <p className="mb-3 text-sm text-slate-600">{chosen.help}</p>
        {chosen.inputs.map((input) => {
          const id = `connector-${input.key}`;
          const common = {
            id, className: inputClass, required: !input.optional, placeholder: input.placeholder,
            value: values[input.key] ?? "",
          };
          return (
            <Field key={input.key} label={input.label} id={id}>
              {input.list ? (
                <textarea {...common} rows={2} onChange={(e) => setValues({ ...values, [input.key]: e.target.value })} />
              ) : (
                <input {...common} type={input.secret ? "password" : input.number ? "number" : "text"}
                       autoComplete="off" onChange={(e) => setValues({ ...values, [input.key]: e.target.value })} />
              )}
            </Field>
          );
        })}
        <Field label="Sync" id="connector-schedule">
          <select id="connector-schedule" className={inputClass} value={String(schedule)}
                  onChange={(e) => setSchedule(e.target.value === "null" ? null : Number(e.target.value))}>
            {SCHEDULES.map(([label, minutes]) => <option key={label} value={String(minutes)}>{label}</option>)}
          </select>
        </Field>
        <Button type="submit">Connect and sync</Button>
      </form>
    </Card>
  );
}
