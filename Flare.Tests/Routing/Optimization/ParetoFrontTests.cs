using Flare.Routing.Optimization;

namespace Flare.Tests.Routing.Optimization;

public sealed class ParetoFrontTests
{
    private static OperatingPointMetrics P(string label, double q, double mean, double p95, double cost) =>
        new(label, q, mean, p95, cost, new Dictionary<string, double>());

    [Fact]
    public void Of_DropsDominatedPoints_KeepsTradeOffs()
    {
        var cheap = P("cheap", 0.6, 200, 400, 0.1);
        var best = P("best", 0.9, 900, 2000, 1.0);
        var middle = P("middle", 0.8, 500, 900, 0.5);
        var worse = P("worse", 0.7, 600, 1000, 0.6); // middle beats it everywhere
        var fastButPricey = P("fast", 0.6, 100, 200, 2.0);

        var front = ParetoFront.Of([cheap, best, middle, worse, fastButPricey]);

        Assert.Equal(["cheap", "best", "middle", "fast"], front.Select(p => p.Label));
    }

    [Fact]
    public void Of_IdenticalPoints_KeptOnce()
    {
        var front = ParetoFront.Of([P("a", 0.5, 1, 1, 1), P("b", 0.5, 1, 1, 1)]);

        Assert.Equal(["a"], front.Select(p => p.Label));
    }
}
