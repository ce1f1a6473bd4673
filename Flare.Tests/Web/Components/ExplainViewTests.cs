using Bunit;
using Flare.Routing.Routing;
using Flare.Tests.Support;
using Flare.Web.Components.Traffic;
using Flare.Web.Traffic;
using static Flare.Tests.Routing.Routing.RoutingPoliciesTests;

namespace Flare.Tests.Web.Components;

/// <summary>The Explain view of one logged request.</summary>
public sealed class ExplainViewTests : ComponentTestBase
{
    private static readonly DateTime Now = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    private static RequestDetail Logged(RoutingExplanation? explanation, long? plan = 7, string? deployment = "weak@d2") => new(
        "req_1", Now, "chat/completions", plan is null ? "strong" : "flare", deployment, explanation?.Policy ?? "least-outstanding", plan, false, 200, null,
        12, 8, 0.000002, 40, 120, 0.3, 1, 0.8, explanation);

    [Fact]
    public void ScoredDecision_ShowsEveryCandidatesEstimatesAndTerms_TheWinnerFirst_AndWhy()
    {
        // strong: 0.9 − 0.5 − 0.4 = 0; weak: 0.6 − 0.05 − 0.1 = 0.45 (as in RoutingExplanationTests).
        var request = new RoutingRequest("flare", 100, 0, Now);
        var policy = RoutingPolicies.Create("flare", new PlanParameters { QualityWeight = 1, CostWeight = 0.5, LatencyWeight = 0.2 },
            new PlanPrices { CostScaleUsd = 0.01, LatencyScaleMs = 1000 }, Now);
        Candidate[] fleet = [Candidate(1, "strong", 0.9, 0.010, latency: 2000), Candidate(2, "weak", 0.6, 0.001, latency: 500, inFlight: 3)];
        var explanation = RoutingDecisionRecord.Capture(policy, "7", fleet, policy.Choose(request, fleet), request).Explain();

        var cut = Ctx.Render<ExplainView>(p => p.Add(c => c.Request, Logged(explanation)));

        Assert.Contains("Why weak@d2:", cut.Find("[data-testid=explain-why]").TextContent);
        Assert.Contains("It won on cost (+0.45), latency (+0.3), which outweighed quality (-0.3).", cut.Find("[data-testid=explain-why]").TextContent);
        Assert.Equal("1·q̂ − 0.5·ĉ / $0.01 − 0.2·ℓ̂ / 1000 ms", cut.Find("[data-testid=explain-formula]").TextContent);
        var rows = cut.FindAll("[data-testid=explain-candidates] tbody tr");
        Assert.Equal(2, rows.Count);
        var winner = cut.Find("[data-testid=explain-winner]").QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList();
        // flare weighs no price: that column is left out.
        Assert.Equal(["✓ weak@d2", "3 / 8", "0.600", "100", "500", "100", "0.0010000", "0.6", "0.05", "0.1", "0.45", ""], winner);
        Assert.Contains("q̂ of every candidate from: history", cut.Find("[data-testid=explain-source]").TextContent);
        Assert.Equal("explain-winner", rows[0].GetAttribute("data-testid"));
        var loser = rows[1].QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList();
        Assert.Equal("strong@d1", loser[0]);
        Assert.Equal(["0.9", "0.5", "0.4", "0"], loser.Skip(7).Take(4));
        Assert.DoesNotContain("price", cut.Find("[data-testid=explain-candidates] thead").TextContent);
        Assert.Contains("weak@d2 · 200", cut.Find("[data-testid=explain-served]").TextContent);
    }

    [Fact]
    public void ModelRequest_SaysNoPolicyScoredIt()
    {
        var cut = Ctx.Render<ExplainView>(p => p.Add(c => c.Request, Logged(null, plan: null, deployment: "strong@d1")));

        Assert.Contains("This request named the model strong, so no scoring policy decided", cut.Find("[data-testid=explain-none]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=explain-candidates]"));
    }

    [Fact]
    public void DroppedRequest_HasNoWinner_AndSaysWhy()
    {
        var request = new RoutingRequest("port", 100, 0, Now);
        var policy = RoutingPolicies.Create("port", new PlanParameters { BudgetUsd = 0.005, OnExhausted = Flare.Routing.Optimization.ExhaustedBudget.Drop },
            new PlanPrices { BudgetsUsd = new Dictionary<string, double> { ["strong@d1"] = 0.005 } }, Now);
        Candidate[] fleet = [Candidate(1, "strong", 0.9, 0.010)];
        var explanation = RoutingDecisionRecord.Capture(policy, "3", fleet, policy.Choose(request, fleet), request).Explain();

        var cut = Ctx.Render<ExplainView>(p => p.Add(c => c.Request, Logged(explanation, plan: 3, deployment: null)));

        Assert.Contains("No winner: Dropped: the best-scoring deployment's budget for this period is spent", cut.Find("[data-testid=explain-why]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=explain-winner]"));
        Assert.Contains("γ", cut.Find("[data-testid=explain-candidates] thead").TextContent);
    }
}
