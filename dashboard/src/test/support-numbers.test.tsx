import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { CoverageGaps, type Support, SupportFigures } from "../components/SupportNumbers";

const SUPPORT: Support = {
  questions: 9, answered_automatically: 4, published_drafts: 1, awaiting_review: 1, withheld: 2, escalated: 1,
  resolved: 3, resolved_without_a_person: 1, deflection_rate: 1 / 3, median_first_answer_seconds: 95,
  gaps: [{ title: "Rotate the VPN keys", questions: 2, escalated: 1, examples: ["how do we rotate the VPN keys?"],
          task_ids: ["7d1c3f7e-2b1a-4c8e-9f3a-1a2b3c4d5e6f"] }],
};

describe("the support desk's numbers", () => {
  it("shows what the bot did on its own and what people took over, with links to act on it", () => {
    render(<MemoryRouter><SupportFigures support={SUPPORT} /></MemoryRouter>);
    expect(screen.getByText("Deflection rate").nextSibling).toHaveTextContent("33%");
    expect(screen.getByText("Median first answer").nextSibling).toHaveTextContent("1.6 min");
    expect(screen.getByRole("link", { name: "Review drafts and hand-overs" })).toHaveAttribute("href", "/support");
    expect(screen.getByRole("link", { name: "Download as CSV" })).toHaveAttribute("href", "/api/analytics/support.csv?hours=24");
  });

  it("names the document each gap needs, or says there are none", () => {
    const { unmount } = render(<MemoryRouter><CoverageGaps gaps={SUPPORT.gaps} /></MemoryRouter>);
    expect(screen.getByText("Write: “Rotate the VPN keys”")).toBeInTheDocument();
    expect(screen.getByText(/2 questions, 1 handed to a person/)).toBeInTheDocument();
    unmount();
    render(<MemoryRouter><CoverageGaps gaps={[]} /></MemoryRouter>);
    expect(screen.getByText(/No gaps in this window/)).toBeInTheDocument();
  });
});
