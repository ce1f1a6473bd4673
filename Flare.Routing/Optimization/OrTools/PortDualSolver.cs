using Google.OrTools.LinearSolver;

namespace Flare.Routing.Optimization.OrTools;

/// <summary>The budget prices PORT learns, or why it could not.</summary>
public sealed record PortDualResult(double[] Gamma, double Objective, string? Failure)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// PORT's learning step (Wu &amp; Silwal, ROUTING.md §2.3): from the first ε of the queries, the dual
/// prices of the models' budgets,
/// <c>γ* = argmin_γ ε·Σ_i γ_i·B_i + Σ_j max_i (α·d̂_ij − γ_i·ĝ_ij)</c>, 0 ≤ γ_i ≤ 1, solved as an LP with
/// GLOP: one variable per model and one free variable per learning query, <c>u_j ≥ α·d̂_ij − γ_i·ĝ_ij</c>.
/// </summary>
public static class PortDualSolver
{
    /// <param name="quality">d̂[j][i]: estimated quality of model i on learning query j.</param>
    /// <param name="cost">ĝ[j][i]: estimated cost of model i on learning query j.</param>
    /// <param name="budgets">B_i: each model's budget over the whole stream.</param>
    /// <param name="epsilon">Fraction of the stream the learning queries are (PORT: 0.025).</param>
    /// <param name="alpha">Scale from quality to the cost unit (PORT: 1e-4 with costs in USD per query).</param>
    public static PortDualResult Solve(double[][] quality, double[][] cost, double[] budgets, double epsilon, double alpha)
    {
        var models = budgets.Length;
        if (quality.Length != cost.Length || quality.Any(r => r.Length != models) || cost.Any(r => r.Length != models))
        {
            return new PortDualResult([], double.NaN, "Quality and cost must have one row per query and one column per model.");
        }

        using var solver = Solver.CreateSolver("GLOP");
        if (solver is null)
        {
            return new PortDualResult([], double.NaN, "OR-Tools' GLOP solver is not available on this machine.");
        }

        var gamma = new Variable[models];
        for (var i = 0; i < models; i++)
        {
            gamma[i] = solver.MakeNumVar(0, 1, $"gamma_{i}");
        }

        var objective = solver.Objective();
        objective.SetMinimization();
        for (var i = 0; i < models; i++)
        {
            objective.SetCoefficient(gamma[i], epsilon * budgets[i]);
        }

        for (var j = 0; j < quality.Length; j++)
        {
            // u_j = max_i (α·d̂_ij − γ_i·ĝ_ij), as ROUTING.md §2.3 states it: no floor at 0.
            var u = solver.MakeNumVar(double.NegativeInfinity, double.PositiveInfinity, $"u_{j}");
            objective.SetCoefficient(u, 1);
            for (var i = 0; i < models; i++)
            {
                // u_j + ĝ_ij·γ_i ≥ α·d̂_ij
                var c = solver.MakeConstraint(alpha * quality[j][i], double.PositiveInfinity);
                c.SetCoefficient(u, 1);
                c.SetCoefficient(gamma[i], cost[j][i]);
            }
        }

        var status = solver.Solve();
        if (status != Solver.ResultStatus.OPTIMAL)
        {
            return new PortDualResult([], double.NaN, $"The LP for PORT's budget prices ended {status}.");
        }

        return new PortDualResult(gamma.Select(g => g.SolutionValue()).ToArray(), objective.Value(), null);
    }
}
