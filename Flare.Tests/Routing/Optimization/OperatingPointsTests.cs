using Flare.Routing.Optimization;
using Flare.Routing.Routing;

namespace Flare.Tests.Routing.Optimization;

public sealed class OperatingPointsTests
{
    // Two queries, two deployments. Big: quality 0.9, $0.01, 1000 ms. Small: quality 0.6 and 0.8, $0.001, 100 ms.
    private static readonly WorkloadSample Sample = new(["big", "small"],
        quality: [0.9, 0.6, 0.9, 0.8],
        costUsd: [0.01, 0.001, 0.01, 0.001],
        latencyMs: [1000, 100, 1000, 100]);

    private static RoutingPlan Plan(double wc) =>
        new(0, "flare", 1, wc, 0, 0.01, 1000, new Dictionary<string, double>(), new Dictionary<string, double>());

    [Fact]
    public void Evaluate_QualityOnly_AllToBig()
    {
        var m = OperatingPoints.Evaluate(Sample, Plan(0));

        Assert.Equal(0.9, m.MeanQuality, 12);
        Assert.Equal(10, m.CostPer1kUsd, 9);
        Assert.Equal(1000, m.P95LatencyMs);
        Assert.Equal(1.0, m.TrafficShare["big"]);
    }

    [Fact]
    public void Evaluate_SomeCostWeight_SplitsByPrompt()
    {
        // w_c = 0.2: big scores 0.9 − 0.2 = 0.7; small scores 0.6 − 0.02 and 0.8 − 0.02. Query 1 → big, query 2 → small.
        var m = OperatingPoints.Evaluate(Sample, Plan(0.2));

        Assert.Equal((0.9 + 0.8) / 2, m.MeanQuality, 12);
        Assert.Equal(550, m.MeanLatencyMs, 9);
        Assert.Equal(0.5, m.TrafficShare["small"]);
    }

    [Fact]
    public void Sweep_FrontHoldsTheTradeOffs()
    {
        var (all, front) = OperatingPoints.Sweep(Sample, [Plan(0), Plan(0.2), Plan(10)]);

        Assert.Equal(3, all.Count);
        Assert.Equal(3, front.Count); // best quality, a split, and cheapest each win on something
    }

    [Theory]
    [InlineData(new double[] { 5, 1, 4, 2, 3 }, 0.95, 5)]
    [InlineData(new double[] { 5, 1, 4, 2, 3 }, 0.5, 3)]
    [InlineData(new double[] { 7 }, 0.95, 7)]
    public void Percentile_NearestRank(double[] values, double p, double expected) =>
        Assert.Equal(expected, OperatingPoints.Percentile(values, p));
}
