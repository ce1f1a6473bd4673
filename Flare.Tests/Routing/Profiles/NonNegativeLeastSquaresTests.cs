using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class NonNegativeLeastSquaresTests
{
    [Fact]
    public void Solve_NonNegativeOptimum_FoundExactly()
    {
        double[][] rows = [[1, 0, 1], [1, 1, 0], [1, 2, 4], [1, 3, 9], [1, 5, 2]];
        var targets = rows.Select(r => 2 * r[0] + 0.5 * r[1] + 3 * r[2]).ToArray();

        var theta = NonNegativeLeastSquares.Solve(rows, targets);

        Assert.Equal([2, 0.5, 3], theta.Select(t => Math.Round(t, 9)));
    }

    [Fact]
    public void Solve_UnconstrainedOptimumNegative_ClampsAndRefitsTheRest()
    {
        // Unconstrained: y = 1 + 2x − 1·z has a negative coefficient; with θ ≥ 0 it must be 0 and the rest refit.
        double[][] rows = [[1, 0, 0], [1, 1, 1], [1, 2, 1], [1, 3, 2], [1, 4, 2]];
        var targets = rows.Select(r => 1 + 2 * r[1] - r[2]).ToArray();

        var theta = NonNegativeLeastSquares.Solve(rows, targets);

        Assert.All(theta, t => Assert.True(t >= 0));
        Assert.Equal(0, theta[2]);
        // With z dropped, the best fit of y on (1, x) is ordinary least squares on those columns.
        var ols = NonNegativeLeastSquares.Householder(rows.Select(r => new[] { r[0], r[1] }).ToArray(), targets, [0, 1]);
        Assert.Equal(ols[0], theta[0], 9);
        Assert.Equal(ols[1], theta[1], 9);
    }

    [Fact]
    public void Solve_DuplicateAndZeroColumns_StillFitsTargets()
    {
        double[][] rows = [[1, 1, 0, 2], [1, 1, 0, 5], [1, 1, 0, 7]];
        var targets = new[] { 4.0, 10, 14 };

        var theta = NonNegativeLeastSquares.Solve(rows, targets);

        Assert.Equal(0, theta[2]);
        for (var r = 0; r < rows.Length; r++)
        {
            Assert.Equal(targets[r], rows[r].Zip(theta, (x, t) => x * t).Sum(), 9);
        }
    }
}
