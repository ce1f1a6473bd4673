using Flare.Routing.Optimization;
using Flare.Routing.Optimization.Evaluation;

namespace Flare.Tests.Routing.Optimization;

public sealed class RouterEvaluationTests
{
    // Three queries, two models, estimates equal to truths. A: quality 1, 0, 1 at cost 2; B: 0.5, 1, 0 at cost 1.
    private static readonly EvaluationSet Set = new(
        ["A", "B"],
        [[1, 0.5], [0, 1], [1, 0]],
        [[2, 1], [2, 1], [2, 1]],
        [[1, 0.5], [0, 1], [1, 0]],
        [[2, 1], [2, 1], [2, 1]]);

    [Fact]
    public void Evaluate_SingleModelsAndOracle_HandComputed()
    {
        var report = RouterEvaluation.Evaluate(Set, new Dictionary<string, IReadOnlyList<CostQuality>>());

        Assert.Equal(new CostQuality(2, 2.0 / 3), report.SingleModels["A"]);
        Assert.Equal(new CostQuality(1, 0.5), report.SingleModels["B"]);
        // The oracle takes A on queries 1 and 3 and B on query 2.
        Assert.Equal(1.0, report.Oracle.Quality, 12);
        Assert.Equal(5.0 / 3, report.Oracle.CostPerQuery, 12);
        Assert.Equal((1, 2), (report.CostMin, report.CostMax));
        // Hull of the single models: a straight line from 0.5 to 2/3 over [1, 2].
        Assert.Equal((0.5 + 2.0 / 3) / 2, report.AiqSingleModelsHull, 12);
        Assert.True(report.OracleAiq > report.AiqSingleModelsHull);
    }

    [Fact]
    public void CostFractionToReach_InterpolatesOnTheHull()
    {
        // 95% of A's 2/3 is 0.6333; on the line from B (1, 0.5) to A (2, 0.6667) that is at cost 1.8: 90% of A's cost.
        var fraction = RouterEvaluation.CostFractionToReach([new(1, 0.5), new(2, 2.0 / 3)], 0.95 * 2 / 3, 2);

        Assert.Equal(0.9, fraction!.Value, 9);
        Assert.Null(RouterEvaluation.CostFractionToReach([new(1, 0.5)], 0.9, 2));
    }

    [Fact]
    public void Weighted_SweepGoesFromBestQualityToCheapest()
    {
        var sweep = OfflineRouters.Weighted(Set, [0, 1000]);

        Assert.Equal([0, 1, 0], sweep[0].Assignment); // λ = 0: the better estimate per query
        Assert.Equal([1, 1, 1], sweep[1].Assignment); // huge λ: always the cheaper model
    }

    [Fact]
    public void Threshold_StrongOnlyWhenItsAdvantageIsLarge()
    {
        var sweep = OfflineRouters.Threshold(Set, [0.4, 0.6]);

        // Strong = A (mean 2/3), weak = B (cheaper). Advantages: +0.5, −1, +1.
        Assert.Equal([0, 1, 0], sweep[0].Assignment);
        Assert.Equal([1, 1, 0], sweep[1].Assignment);
    }

    [Fact]
    public void Score_DroppedQueries_CountAsZeroQualityAndCost() =>
        Assert.Equal(new CostQuality(2.0 / 3, 1.0 / 3), Set.Score([0, -1, -1]));
}
