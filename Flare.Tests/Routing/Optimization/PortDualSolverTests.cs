using Flare.Routing.Optimization.OrTools;

namespace Flare.Tests.Routing.Optimization;

public sealed class PortDualSolverTests
{
    /// <summary>
    /// Two models, four queries, α = 1, ε = 1. Model A costs 1 per query and its budget buys one query;
    /// model B costs 0.1 and its budget is slack. The primal optimum gives A to the query where it gains
    /// most over B (0.4, on query 1 or 4) and B to the rest: 0.5 + 0.6 + 0.7 + 0.2 + 0.4 = 2.4. The dual
    /// price of A's budget is that marginal gain, γ_A = 0.4; B's slack budget is free, γ_B = 0; and the
    /// dual objective equals the primal optimum (strong duality).
    /// </summary>
    [Fact]
    public void Solve_TwoModelsFourQueries_HandComputedPrices()
    {
        double[][] quality = [[0.9, 0.5], [0.8, 0.6], [0.7, 0.7], [0.6, 0.2]];
        double[][] cost = [[1, 0.1], [1, 0.1], [1, 0.1], [1, 0.1]];

        var result = PortDualSolver.Solve(quality, cost, budgets: [1, 1], epsilon: 1, alpha: 1);

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(0.4, result.Gamma[0], 9);
        Assert.Equal(0.0, result.Gamma[1], 9);
        Assert.Equal(2.4, result.Objective, 9);
    }

    [Fact]
    public void Solve_BudgetsSlack_PricesZero()
    {
        double[][] quality = [[0.9, 0.5], [0.8, 0.6]];
        double[][] cost = [[1, 0.1], [1, 0.1]];

        var result = PortDualSolver.Solve(quality, cost, budgets: [10, 10], epsilon: 1, alpha: 1);

        Assert.Equal([0.0, 0.0], result.Gamma.Select(g => Math.Round(g, 9)));
        Assert.Equal(0.9 + 0.8, result.Objective, 9);
    }

    [Fact]
    public void Solve_MismatchedShapes_FailureNotException()
    {
        var result = PortDualSolver.Solve([[0.5]], [[1, 2]], [1], 1, 1);

        Assert.False(result.Succeeded);
        Assert.Contains("one column per model", result.Failure);
    }
}
