using Google.OrTools.LinearSolver;

namespace Flare.Routing.Optimization.OrTools;

/// <summary>The LP relaxation of PORT's offline problem, solved with GLOP.</summary>
public static class PortPrimalSolver
{
    /// <summary>
    /// max Σ_ij d̂_ij·x_ij s.t. Σ_j ĝ_ij·x_ij ≤ B_i, Σ_i x_ij ≤ 1, 0 ≤ x ≤ 1. Returns, per query, the model
    /// with the largest x (−1 when the LP serves none of it).
    /// </summary>
    public static int[] Solve(double[][] quality, double[][] cost, double[] budgets)
    {
        var n = quality.Length;
        var m = budgets.Length;
        using var solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools' GLOP solver is not available.");
        var x = new Variable[n, m];
        var perModel = Enumerable.Range(0, m).Select(i => solver.MakeConstraint(double.NegativeInfinity, budgets[i])).ToArray();
        var objective = solver.Objective();
        objective.SetMaximization();
        for (var j = 0; j < n; j++)
        {
            var perQuery = solver.MakeConstraint(double.NegativeInfinity, 1);
            for (var i = 0; i < m; i++)
            {
                x[j, i] = solver.MakeNumVar(0, 1, "");
                objective.SetCoefficient(x[j, i], quality[j][i]);
                perQuery.SetCoefficient(x[j, i], 1);
                perModel[i].SetCoefficient(x[j, i], cost[j][i]);
            }
        }

        if (solver.Solve() != Solver.ResultStatus.OPTIMAL)
        {
            throw new InvalidOperationException("The LP relaxation of PORT's offline problem did not solve to optimality.");
        }

        var result = new int[n];
        for (var j = 0; j < n; j++)
        {
            var best = -1;
            var bestX = 1e-9;
            for (var i = 0; i < m; i++)
            {
                var v = x[j, i].SolutionValue();
                if (v > bestX)
                {
                    (best, bestX) = (i, v);
                }
            }

            result[j] = best;
        }

        return result;
    }
}
