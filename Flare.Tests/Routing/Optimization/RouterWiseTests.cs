using Flare.Routing.Optimization;

namespace Flare.Tests.Routing.Optimization;

public sealed class RouterWiseTests
{
    /// <summary>
    /// A big deployment (ℓ = 100 + 50·rate ms) and a small one (ℓ = 20 + 5·rate ms) at λ = 10 req/s,
    /// SLO 300 ms. All-big would average 600 ms. With x the big share, the mean latency is
    /// x·(100 + 500x) + (1 − x)·(20 + 50(1 − x)), which reaches 300 ms at x ≈ 0.667. Prompts gain
    /// 0.1 to 0.5 quality on the big model, so the best split sends the top ~2/3 gains to it.
    /// </summary>
    private static RouterWiseProblem TwoDeployments(double slo)
    {
        const int n = 600;
        var quality = Enumerable.Range(0, n)
            .Select(j => new[] { 0.6 + 0.1 + 0.4 * j / (n - 1), 0.6 })
            .ToArray();
        return new RouterWiseProblem(quality, [r => 100 + 50 * r, r => 20 + 5 * r], ArrivalRate: 10, SloMs: slo);
    }

    [Fact]
    public void Solve_SloBinds_MeetsItAtTheChosenAlphaAndBeta()
    {
        var problem = TwoDeployments(300);

        var solution = RouterWise.Solve(problem);

        Assert.True(solution.Feasible, solution.Reason);
        Assert.True(solution.Beta > 0);
        // Re-routing with the returned prices reproduces the split, and it meets the SLO.
        var replay = RouterWise.Evaluate(problem, solution.Alpha, solution.Beta);
        Assert.Equal(solution.Shares, replay.Shares);
        Assert.True(replay.MeanLatencyMs <= 300, $"{replay.MeanLatencyMs} ms");
        // Close to the best split (x* ≈ 0.667): within 2 points of share.
        Assert.InRange(solution.Shares[0], 0.645, 0.667);
    }

    [Fact]
    public void Solve_SloBinds_BigModelGetsTheHighestGainPrompts()
    {
        var problem = TwoDeployments(300);

        var solution = RouterWise.Solve(problem);

        // Prompts are ordered by gain; the big model's prompts must be a top block.
        var picks = problem.Quality.Select(row => row[0] - solution.Alpha[0] > row[1] - solution.Alpha[1] ? 0 : 1).ToArray();
        var firstBig = Array.IndexOf(picks, 0);
        Assert.All(picks[firstBig..], p => Assert.Equal(0, p));
    }

    [Fact]
    public void Solve_SloSlack_BestQualityUnconstrained()
    {
        var solution = RouterWise.Solve(TwoDeployments(1000));

        Assert.Equal(0, solution.Beta);
        Assert.Equal(1.0, solution.Shares[0]);
        Assert.True(solution.Feasible);
    }

    [Fact]
    public void Solve_SloBelowWhatAnySplitReaches_SaysByHowMuch()
    {
        var solution = RouterWise.Solve(TwoDeployments(20));

        Assert.False(solution.Feasible);
        Assert.Contains("over the 20 ms target", solution.Reason);
    }
}
