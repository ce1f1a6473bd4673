using Flare.Routing.Optimization;

namespace Flare.Tests.Routing.Optimization;

public sealed class PortTests
{
    /// <summary>A strong expensive model and a weak cheap one over 400 queries, estimates equal to truths.</summary>
    private static PortWorkload Workload(int n = 400, int seed = 1)
    {
        var random = new Random(seed);
        var quality = new double[n][];
        var cost = new double[n][];
        for (var j = 0; j < n; j++)
        {
            var strong = 0.6 + 0.4 * random.NextDouble();
            quality[j] = [strong, strong - 0.1 - 0.4 * random.NextDouble()];
            cost[j] = [0.01 + 0.01 * random.NextDouble(), 0.001];
        }

        return new PortWorkload(quality, cost, quality, cost);
    }

    private static int[] Shuffled(int n, int seed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    [Theory]
    [InlineData(BudgetSplit.Weighted, ExhaustedBudget.Drop)]
    [InlineData(BudgetSplit.Uniform, ExhaustedBudget.Fallback)]
    [InlineData(BudgetSplit.Cost, ExhaustedBudget.Drop)]
    [InlineData(BudgetSplit.Quality, ExhaustedBudget.Fallback)]
    public void Run_NeverSpendsMoreThanAnyModelsBudget(BudgetSplit split, ExhaustedBudget onExhausted)
    {
        var w = Workload();
        var options = new PortOptions { Split = split, OnExhausted = onExhausted, BudgetFactor = 3, Seed = 5 };

        var run = Port.Run(w, Shuffled(w.Queries, 9), options);

        // Per-model spend is not returned, so replay: the total can never exceed the total budget.
        Assert.True(run.Cost <= run.Budgets.Sum() + 1e-12, $"spent {run.Cost} of {run.Budgets.Sum()}");
        Assert.Equal(w.TrueCost.Sum(r => r.Min()) * 3, run.Budgets.Sum(), 9);
    }

    [Fact]
    public void Run_FallbackServesAtLeastAsManyAsDrop()
    {
        var w = Workload();
        var order = Shuffled(w.Queries, 3);

        var drop = Port.Run(w, order, new PortOptions { BudgetFactor = 2, OnExhausted = ExhaustedBudget.Drop });
        var fallback = Port.Run(w, order, new PortOptions { BudgetFactor = 2, OnExhausted = ExhaustedBudget.Fallback });

        Assert.True(fallback.Served >= drop.Served, $"fallback {fallback.Served} < drop {drop.Served}");
    }

    [Fact]
    public void Run_SameSeedAndOrder_SameResult()
    {
        var w = Workload();
        var order = Shuffled(w.Queries, 4);

        var a = Port.Run(w, order, new PortOptions { Seed = 11, BudgetFactor = 2 });
        var b = Port.Run(w, order, new PortOptions { Seed = 11, BudgetFactor = 2 });

        Assert.Equal(a, b with { Gamma = a.Gamma, Budgets = a.Budgets });
        Assert.Equal(a.Gamma, b.Gamma);
    }

    [Fact]
    public void Run_ExactEstimates_ReachesMostOfTheApproximateOptimum()
    {
        var w = Workload(800);
        var ratios = Enumerable.Range(0, 5).Select(seed =>
        {
            var order = Shuffled(w.Queries, seed);
            var options = new PortOptions { Seed = seed, BudgetFactor = 2 };
            return Port.Run(w, order, options).Performance / Port.ApproximateOptimum(w, order, options).Performance;
        }).ToList();

        Assert.True(ratios.Average() >= 0.85, $"PORT reached {ratios.Average():P1} of the approximate optimum");
    }

    /// <summary>
    /// With ε = 0.025 of 400 queries PORT learns from 10; re-learning the prices as the stream doubles
    /// must not do worse than learning once, over the same arrival orders.
    /// </summary>
    [Fact]
    public void Run_DoublingUpdates_AtLeastAsGoodAsOnce()
    {
        var w = Workload(400, seed: 3);
        double Total(PriceUpdates updates) => Enumerable.Range(0, 8).Sum(seed =>
            Port.Run(w, Shuffled(w.Queries, seed), new PortOptions { Seed = seed, BudgetFactor = 1.5, Updates = updates }).Performance);

        Assert.True(Total(PriceUpdates.Doubling) >= Total(PriceUpdates.Once),
            $"doubling {Total(PriceUpdates.Doubling):F2} < once {Total(PriceUpdates.Once):F2}");
    }

    /// <summary>
    /// One model, 40 queries of cost 1 alternating quality 0.9 and 0.05, budget for 10 (factor 0.25). The
    /// price settles between 0.05 and 0.9, so after the one learning query the 0.05 queries score below
    /// the drop option and the budget goes to 0.9 queries only: at least 9 × 0.9. Routing every query to
    /// the argmax model instead would spend the budget on the first 10 arrivals, about half of them 0.05.
    /// </summary>
    [Fact]
    public void Run_QueriesWorthLessThanTheirPrice_Dropped_BudgetGoesToBetterOnes()
    {
        var q = Enumerable.Range(0, 40).Select(j => new[] { j % 2 == 0 ? 0.9 : 0.05 }).ToArray();
        var c = Enumerable.Range(0, 40).Select(_ => new[] { 1.0 }).ToArray();
        var w = new PortWorkload(q, c, q, c);

        var run = Port.Run(w, Enumerable.Range(0, 40).ToArray(), new PortOptions { Alpha = 1, BudgetFactor = 0.25, Seed = 2 });

        Assert.True(run.Cost <= 10 + 1e-9, $"spent {run.Cost}");
        Assert.True(run.Performance >= 9 * 0.9 - 1e-9, $"performance {run.Performance:F2} from {run.Served} served");
    }

    [Fact]
    public void Budgets_WeightedSplit_FollowsSqrtQualityOverCost()
    {
        double[][] q = [[0.8, 0.2], [0.8, 0.2]];
        double[][] c = [[0.02, 0.005], [0.02, 0.005]];
        var w = new PortWorkload(q, c, q, c);

        var budgets = Port.Budgets(w, 1, BudgetSplit.Weighted);

        // Total = 2 × 0.005; weights sqrt(0.8/0.02) = 6.32 and sqrt(0.2/0.005) = 6.32: an even split.
        Assert.Equal(0.005, budgets[0], 12);
        Assert.Equal(0.005, budgets[1], 12);
    }
}
