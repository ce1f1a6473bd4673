using Flare.Routing.Optimization;
using Flare.Routing.Routing;
using static Flare.Tests.Routing.Routing.RoutingPoliciesTests;

namespace Flare.Tests.Routing.Routing;

/// <summary>What the Explain view says about a decision, on hand-computed cases.</summary>
public sealed class RoutingExplanationTests
{
    private static readonly DateTime Now = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);
    private static readonly RoutingRequest Request = new("flare", 100, 0, Now);

    private static RoutingExplanation Decide(IRoutingPolicy policy, Candidate[] candidates)
    {
        var pick = policy.Choose(Request, candidates);
        return RoutingDecisionRecord.Capture(policy, "7", candidates, pick, Request).Explain();
    }

    [Fact]
    public void Flare_ScoresEachCandidateTermByTerm_AndNamesTheTermsThatDecided()
    {
        // w_q 1, w_c 0.5 over C = $0.01, w_l 0.2 over L = 1000 ms.
        // strong: 0.9 − 0.5·0.010/0.01 − 0.2·2000/1000 = 0.9 − 0.5 − 0.4 = 0.0
        // weak:   0.6 − 0.5·0.001/0.01 − 0.2·500/1000  = 0.6 − 0.05 − 0.1 = 0.45
        var policy = RoutingPolicies.Create("flare",
            new PlanParameters { QualityWeight = 1, CostWeight = 0.5, LatencyWeight = 0.2 },
            new PlanPrices { CostScaleUsd = 0.01, LatencyScaleMs = 1000 }, Now);
        var fleet = new[] { Candidate(1, "strong", 0.9, 0.010, latency: 2000), Candidate(2, "weak", 0.6, 0.001, latency: 500) };

        var x = Decide(policy, fleet);

        Assert.Equal("weak@d2", x.Winner);
        Assert.Equal("7", x.Plan);
        Assert.Equal("1·q̂ − 0.5·ĉ / $0.01 − 0.2·ℓ̂ / 1000 ms", x.Formula);
        var strong = x.Candidates.Single(c => c.Deployment == "strong@d1");
        Assert.Equal(0.9, strong.QualityTerm!.Value, 12);
        Assert.Equal(0.5, strong.CostTerm!.Value, 12);
        Assert.Equal(0.4, strong.LatencyTerm!.Value, 12);
        Assert.Equal(0.0, strong.Score!.Value, 12);
        Assert.False(strong.Chosen);
        var weak = x.Candidates.Single(c => c.Chosen);
        Assert.Equal(0.45, weak.Score!.Value, 12);
        Assert.Equal("history", weak.Source);
        // Margin 0.45: cost +0.45 and latency +0.3 for weak outweigh quality −0.3.
        Assert.Equal(
            "weak@d2 has the highest score, 0.45, of 2 candidate(s) that could take the request. The next best, strong@d1, scored 0 (0.45 less). " +
            "It won on cost (+0.45), latency (+0.3), which outweighed quality (-0.3).", x.Why);
    }

    [Fact]
    public void FullCandidate_IsExcludedWithItsLoad_EvenWhenItWouldScoreBest()
    {
        var policy = RoutingPolicies.Create("best-quality", new PlanParameters(), PlanPrices.Empty, Now);
        var fleet = new[] { Candidate(1, "strong", 0.9, 0.01, inFlight: 4, maxConcurrency: 4), Candidate(2, "weak", 0.6, 0.001) };

        var x = Decide(policy, fleet);

        Assert.Equal("weak@d2", x.Winner);
        var strong = x.Candidates.Single(c => c.Deployment == "strong@d1");
        Assert.Equal("at its concurrency limit (4 of 4 in flight)", strong.Excluded);
        Assert.Equal(4, strong.InFlight);
        Assert.Contains("of 1 candidate(s) that could take the request; every other candidate was excluded", x.Why);
    }

    [Fact]
    public void Port_ShowsGammaAndThePriceTerm_AndASpentBudgetExplainsWhyTheBestScoreLost()
    {
        // γ = 0: strong 1e-4·0.9 = 9e-5 beats weak 6e-5, but strong's $0.015 budget pays one $0.010 request.
        var policy = RoutingPolicies.Create("port",
            new PlanParameters { BudgetUsd = 1.015, OnExhausted = ExhaustedBudget.Fallback },
            new PlanPrices
            {
                Gamma = new Dictionary<string, double> { ["strong@d1"] = 0, ["weak@d2"] = 0.002 },
                BudgetsUsd = new Dictionary<string, double> { ["strong@d1"] = 0.015, ["weak@d2"] = 1 },
            },
            Now);
        var fleet = new[] { Candidate(1, "strong", 0.9, 0.010), Candidate(2, "weak", 0.6, 0.001), Candidate(3, "unpriced", 0.99, 0.0) };

        var first = Decide(policy, fleet);
        var second = Decide(policy, fleet);

        Assert.Equal("strong@d1", first.Winner);
        Assert.Equal("weak@d2", second.Winner);
        var weak = second.Candidates.Single(c => c.Deployment == "weak@d2");
        Assert.Equal(0.002, weak.Gamma);
        Assert.Equal(0.002 * 0.001, weak.PriceTerm!.Value, 15);
        Assert.Equal(1e-4 * 0.6 - 0.002 * 0.001, weak.Score!.Value, 15);
        Assert.Equal("its budget for this period is spent", second.Candidates.Single(c => c.Deployment == "strong@d1").Excluded);
        Assert.Equal("the plan has no budget for it (added after the plan was computed)", second.Candidates.Single(c => c.Deployment == "unpriced@d3").Excluded);
    }

    [Fact]
    public void Dropped_SaysTheBudgetIsSpent_AndHasNoWinner()
    {
        var policy = RoutingPolicies.Create("port",
            new PlanParameters { BudgetUsd = 0.005, OnExhausted = ExhaustedBudget.Drop },
            new PlanPrices { BudgetsUsd = new Dictionary<string, double> { ["strong@d1"] = 0.005 } }, Now);

        var x = Decide(policy, [Candidate(1, "strong", 0.9, 0.010)]);

        Assert.Null(x.Winner);
        Assert.StartsWith("Dropped: the best-scoring deployment's budget for this period is spent", x.Why);
    }

    [Fact]
    public void RouterWise_PriceIsAlpha_AndATieGoesToTheLowerId()
    {
        var policy = RoutingPolicies.Create("routerwise", new PlanParameters { SloMs = 500, ArrivalRatePerSecond = 1 },
            new PlanPrices { Alpha = new Dictionary<string, double> { ["strong@d1"] = 0.5 } }, Now);

        // strong: 0.9 − 0.5 = 0.4 = weak's 0.4 − 0.
        var x = Decide(policy, [Candidate(1, "strong", 0.9, 0.01), Candidate(2, "weak", 0.4, 0.001)]);

        Assert.Equal("strong@d1", x.Winner);
        Assert.Equal(0.5, x.Candidates[0].Alpha);
        Assert.Equal(0.5, x.Candidates[0].PriceTerm);
        Assert.Contains("a tie, which goes to the lower deployment id", x.Why);
    }

    [Fact]
    public void Json_RoundTrips_AndGarbageReadsAsNone()
    {
        var policy = RoutingPolicies.Create("cheapest", new PlanParameters(), PlanPrices.Empty, Now);
        var x = Decide(policy, [Candidate(1, "strong", 0.9, 0.01), Candidate(2, "weak", 0.6, 0.001)]);

        var back = RoutingExplanation.FromJson(x.ToJson())!;

        Assert.Equal(x.Why, back.Why);
        Assert.Equal(x.Candidates, back.Candidates);
        Assert.Null(RoutingExplanation.FromJson("{not json"));
        Assert.Null(RoutingExplanation.FromJson(null));
    }
}
