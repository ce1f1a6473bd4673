using Flare.Routing.Routing;

namespace Flare.Tests.Routing.Routing;

public sealed class ScoringCoreTests
{
    private static readonly CandidateEstimate Strong = new(Quality: 0.9, OutputTokens: 300, CostUsd: 0.010, LatencyMs: 2000);
    private static readonly CandidateEstimate Weak = new(Quality: 0.7, OutputTokens: 200, CostUsd: 0.001, LatencyMs: 400);

    private static RoutingPlan Plan(double wq, double wc, double wl) =>
        new(1, "flare", wq, wc, wl, CostScaleUsd: 0.01, LatencyScaleMs: 1000, new Dictionary<string, double>(), new Dictionary<string, double>());

    [Fact]
    public void Argmax_QualityOnly_PicksTheStrongModel() =>
        Assert.Equal(0, ScoringCore.Argmax([Strong, Weak], Plan(1, 0, 0), [0, 0], [0, 0]));

    [Fact]
    public void Argmax_CostWeighted_PicksTheCheapModel() =>
        // Strong: 0.9 − 0.5·1.0 = 0.40; weak: 0.7 − 0.5·0.1 = 0.65.
        Assert.Equal(1, ScoringCore.Argmax([Strong, Weak], Plan(1, 0.5, 0), [0, 0], [0, 0]));

    [Fact]
    public void Argmax_LatencyWeighted_PicksTheFastModel() =>
        // Strong: 0.9 − 0.2·2.0 = 0.50; weak: 0.7 − 0.2·0.4 = 0.62.
        Assert.Equal(1, ScoringCore.Argmax([Strong, Weak], Plan(1, 0, 0.2), [0, 0], [0, 0]));

    [Fact]
    public void Argmax_BudgetPriceOnTheStrongModel_MovesTrafficAway() =>
        // γ = 0.3 on the strong model: 0.9 − 0.3·1.0 = 0.6 < 0.7 − 0 = 0.7.
        Assert.Equal(1, ScoringCore.Argmax([Strong, Weak], Plan(1, 0, 0), [0.3, 0], [0, 0]));

    [Fact]
    public void Argmax_CapacityPriceOnTheStrongModel_MovesTrafficAway() =>
        Assert.Equal(1, ScoringCore.Argmax([Strong, Weak], Plan(1, 0, 0), [0, 0], [0.25, 0]));

    [Fact]
    public void Argmax_NoCandidates_MinusOne() =>
        Assert.Equal(-1, ScoringCore.Argmax([], Plan(1, 0, 0), [], []));
}
