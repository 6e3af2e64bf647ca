import { lazy, Suspense } from "react";
import { NavLink, Navigate, Route, Routes } from "react-router-dom";
import { useSession } from "./auth";
import { Button } from "./components/ui";
import { Login } from "./pages/Login";

// Each page is its own chunk, fetched when first opened: the charts library and the Markdown
// renderer are most of the code, and only some pages use them.
const Overview = lazy(() => import("./pages/Overview").then((m) => ({ default: m.Overview })));
const Knowledge = lazy(() => import("./pages/Knowledge").then((m) => ({ default: m.Knowledge })));
const Playground = lazy(() => import("./pages/Playground").then((m) => ({ default: m.Playground })));
const Tasks = lazy(() => import("./pages/Tasks").then((m) => ({ default: m.Tasks })));
const TaskDetail = lazy(() => import("./pages/TaskDetail").then((m) => ({ default: m.TaskDetail })));
const Support = lazy(() => import("./pages/Support").then((m) => ({ default: m.Support })));
const Faqs = lazy(() => import("./pages/Faqs").then((m) => ({ default: m.Faqs })));
const Feedback = lazy(() => import("./pages/Feedback").then((m) => ({ default: m.Feedback })));
const Integrations = lazy(() => import("./pages/Integrations").then((m) => ({ default: m.Integrations })));
const SettingsPage = lazy(() => import("./pages/Settings").then((m) => ({ default: m.SettingsPage })));

const PAGES = [
  ["/", "Overview"],
  ["/knowledge", "Knowledge"],
  ["/playground", "Playground"],
  ["/tasks", "Tasks"],
  ["/support", "Support"],
  ["/faqs", "FAQs"],
  ["/feedback", "Feedback"],
  ["/integrations", "Integrations"],
  ["/settings", "Settings"],
] as const;

export function App() {
  const { user, loading, signOut } = useSession();
  if (loading) return <p className="p-8 text-slate-600">Loading…</p>;
  if (!user) return <Login />;
  return (
    <div className="min-h-screen md:grid md:grid-cols-[14rem_minmax(0,1fr)]">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:p-2">
        Skip to content
      </a>
      <nav aria-label="Main" className="bg-slate-900 p-4 text-slate-100">
        <p className="mb-6 text-lg font-semibold">MorningAI hub</p>
        <ul className="space-y-1">
          {PAGES.map(([path, label]) => (
            <li key={path}>
              <NavLink
                to={path}
                end={path === "/"}
                className={({ isActive }) =>
                  `block rounded px-3 py-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-300 ${
                    isActive ? "bg-indigo-700 font-medium text-white" : "text-slate-200 hover:bg-slate-800"
                  }`
                }
              >
                {label}
              </NavLink>
            </li>
          ))}
        </ul>
        <div className="mt-8 border-t border-slate-700 pt-4 text-sm text-slate-300">
          <p className="truncate" title={user.email}>{user.email}</p>
          <p className="mb-2">{user.role}</p>
          <Button variant="secondary" onClick={() => void signOut()}>
            Log out
          </Button>
        </div>
      </nav>
      <main id="main" className="min-w-0 p-6">
        <Suspense fallback={<p className="text-slate-600">Loading…</p>}>
          <Routes>
            <Route path="/" element={<Overview />} />
            <Route path="/knowledge" element={<Knowledge />} />
            <Route path="/playground" element={<Playground />} />
            <Route path="/tasks" element={<Tasks />} />
            <Route path="/tasks/:id" element={<TaskDetail />} />
            <Route path="/support" element={<Support />} />
            <Route path="/faqs" element={<Faqs />} />
            <Route path="/feedback" element={<Feedback />} />
            <Route path="/integrations" element={<Integrations />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}
