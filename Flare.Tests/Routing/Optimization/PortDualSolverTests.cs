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

    /// <summary>
    /// One model, cost 1, budget for one of three queries (qualities 0.9, 0.5, 0.3). The primal serves
    /// the 0.9 query and drops the others, so γ lies where serving a dropped query stops paying: any γ in
    /// [0.5, 0.9] is optimal for the LP, with objective γ·1 + (0.9 − γ) = 0.9, and the two dropped queries
    /// have u = 0 — which needs the drop option (u ≥ 0): without it u_2 = 0.5 − γ &lt; 0 would pull the
    /// objective below the primal optimum.
    /// </summary>
    [Fact]
    public void Solve_DroppedQueriesAreWorthZero()
    {
        double[][] quality = [[0.9], [0.5], [0.3]];
        double[][] cost = [[1], [1], [1]];

        var result = PortDualSolver.Solve(quality, cost, budgets: [1], epsilon: 1, alpha: 1);

        Assert.True(result.Succeeded, result.Failure);
        Assert.InRange(result.Gamma[0], 0.5 - 1e-9, 0.9 + 1e-9);
        Assert.Equal(0.9, result.Objective, 9);
    }

    /// <summary>
    /// The two-model case in USD as PORT uses it: costs 1e-5 and 1e-6 per query, α = 1e-4. The prices
    /// scale with α / cost: γ_A = 0.4 · 1e-4 / 1e-5 = 4 — above PORT's cap of 1, which, when set, binds.
    /// </summary>
    [Fact]
    public void Solve_SmallCostsInUsd_SamePricesAsInUnitCosts_AndTheCapBinds()
    {
        double[][] quality = [[0.9, 0.5], [0.8, 0.6], [0.7, 0.7], [0.6, 0.2]];
        double[][] cost = [[1e-5, 1e-6], [1e-5, 1e-6], [1e-5, 1e-6], [1e-5, 1e-6]];

        var free = PortDualSolver.Solve(quality, cost, budgets: [1e-5, 1e-5], epsilon: 1, alpha: 1e-4);
        var capped = PortDualSolver.Solve(quality, cost, budgets: [1e-5, 1e-5], epsilon: 1, alpha: 1e-4, gammaCap: 1);

        Assert.Equal(4.0, free.Gamma[0], 6);
        Assert.Equal(0.0, free.Gamma[1], 6);
        Assert.Equal(2.4e-4, free.Objective, 12);
        Assert.Equal(1.0, capped.Gamma[0], 9);
    }

    [Fact]
    public void Solve_MismatchedShapes_FailureNotException()
    {
        var result = PortDualSolver.Solve([[0.5]], [[1, 2]], [1], 1, 1);

        Assert.False(result.Succeeded);
        Assert.Contains("one column per model", result.Failure);
    }
}
