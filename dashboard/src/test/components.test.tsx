import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { Citations, TraceTimeline } from "../components/Trace";
import { EmptyState, StatusBadge } from "../components/ui";

describe("TraceTimeline", () => {
  it("lists each step with its time, and the total", () => {
    render(<TraceTimeline steps={[{ node: "route", ms: 1.5 }, { node: "retrieve", ms: 8.5 }, { node: "answer", ms: 30 }]} />);
    const trace = screen.getByRole("list", { name: "Trace" });
    expect(trace).toHaveTextContent("route1.5 ms");
    expect(trace).toHaveTextContent("retrieve8.5 ms");
    expect(screen.getByText("total 40.0 ms")).toBeInTheDocument();
  });

  it("says why there is no trace yet", () => {
    render(<TraceTimeline steps={[]} />);
    expect(screen.getByText(/once a worker has run the task/)).toBeInTheDocument();
  });
});

describe("Citations", () => {
  it("numbers the sources as the reply cites them", () => {
    render(<Citations citations={[{ title: "Deploying", location: "docs/deploy.md", snippet: "" }]} />);
    expect(screen.getByRole("list", { name: "Sources" })).toHaveTextContent("[1] Deploying — docs/deploy.md");
  });
});

describe("EmptyState and StatusBadge", () => {
  it("tells a newcomer what to do", () => {
    render(<MemoryRouter><EmptyState title="Nothing yet">Upload a file.</EmptyState></MemoryRouter>);
    expect(screen.getByRole("status")).toHaveTextContent("Nothing yetUpload a file.");
  });

  it("colours failures red", () => {
    render(<StatusBadge status="failed" />);
    expect(screen.getByText("failed").className).toContain("bg-red-100");
  });
});
