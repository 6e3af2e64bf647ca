import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api";
import { Card, ErrorNote, PageHeader, StatusBadge } from "../components/ui";

interface Integration {
  platform: string;
  name: string;
  configured: boolean;
  settings: { variable: string; set: boolean }[];
}

const HOW_TO: Record<string, string> = {
  slack: "Create a Slack app, then set its signing secret and bot token (or OAuth client id and secret) in the hub's environment and restart it.",
  discord: "Create a Discord application with a bot, then set its bot token and application id in the hub's environment and restart it.",
  web: "Always on: ask in the Playground, or with `morningai ask`.",
};

export function Integrations() {
  const [integrations, setIntegrations] = useState<Integration[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<{ integrations: Integration[] }>("/api/integrations").then((b) => setIntegrations(b.integrations)).catch(setError);
  }, []);
  return (
    <>
      <PageHeader title="Integrations" />
      <ErrorNote error={error} />
      <div className="grid gap-4 lg:grid-cols-3">
        {integrations?.map((integration) => (
          <Card key={integration.platform} title={integration.name}>
            <p className="mb-2"><StatusBadge status={integration.configured ? "ready" : "not configured"} /></p>
            <p className="mb-2 text-sm text-slate-700">
              {integration.platform === "web" ? (
                <>Always on: ask in the <Link className="text-indigo-700 underline" to="/playground">Playground</Link>, or with <code>morningai ask</code>.</>
              ) : HOW_TO[integration.platform]}
            </p>
            {integration.settings.length > 0 && (
              <ul className="text-sm">
                {integration.settings.map((setting) => (
                  <li key={setting.variable}>
                    <code>{setting.variable}</code>: {setting.set ? "set" : "not set"}
                  </li>
                ))}
              </ul>
            )}
          </Card>
        ))}
      </div>
    </>
  );
}
