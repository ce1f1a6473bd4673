using Google.OrTools.LinearSolver;

namespace Flare.Routing.Optimization.OrTools;

/// <summary>The budget prices PORT learns, or why it could not.</summary>
public sealed record PortDualResult(double[] Gamma, double Objective, string? Failure)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// PORT's learning step (Wu &amp; Silwal, ROUTING.md §2.3): from a sample of queries, the dual prices of
/// the models' budgets,
/// <c>γ* = argmin_γ ε·Σ_i γ_i·B_i + Σ_j max(0, max_i (α·d̂_ij − γ_i·ĝ_ij))</c>, γ ≥ 0, solved as an LP with
/// GLOP: one variable per model and one per sample query, <c>u_j ≥ α·d̂_ij − γ_i·ĝ_ij</c>, <c>u_j ≥ 0</c>.
/// </summary>
/// <remarks>
/// Two points go beyond ROUTING.md's one-line statement, both because the LP is the dual of PORT's
/// offline problem, whose queries may go unserved (<c>Σ_i x_ij ≤ 1</c>):
/// <list type="bullet">
/// <item><c>u_j ≥ 0</c> is the dual of that "≤ 1": dropping a query is worth 0. Without it the LP is
/// unbounded as soon as the prices are not capped.</item>
/// <item>No cap on γ by default. PORT's <c>γ ≤ 1</c> assumes α·d̂ and ĝ are of one size; on LLMRouter's
/// dcrouter prices (3.4e-5 to 3.0e-4 USD per query, α = 1e-4) the full-data LP prices the cheapest
/// model at γ = 1.7, and capping it at 1 lets that model's budget run out early. A cap can still be set.</item>
/// </list>
/// Costs are of order 1e-5 USD, below GLOP's absolute tolerances (~1e-7 on coefficients of ~1e-4), so the
/// LP is solved in scaled units — costs and budgets divided by the mean cost, quality by α — and the
/// prices are converted back.
/// </remarks>
public static class PortDualSolver
{
    /// <param name="quality">d̂[j][i]: estimated quality of model i on sample query j.</param>
    /// <param name="cost">ĝ[j][i]: estimated cost of model i on sample query j.</param>
    /// <param name="budgets">B_i: each model's budget over the queries the prices are for.</param>
    /// <param name="epsilon">The sample's size relative to those queries (PORT: 0.025 of the stream).</param>
    /// <param name="alpha">Scale from quality to the cost unit (PORT: 1e-4 with costs in USD per query).</param>
    /// <param name="gammaCap">Upper bound on each γ_i (PORT states 1), or null for none.</param>
    public static PortDualResult Solve(double[][] quality, double[][] cost, double[] budgets, double epsilon, double alpha, double? gammaCap = null)
    {
        var models = budgets.Length;
        if (quality.Length != cost.Length || quality.Any(r => r.Length != models) || cost.Any(r => r.Length != models))
        {
            return new PortDualResult([], double.NaN, "Quality and cost must have one row per query and one column per model.");
        }

        if (!(alpha > 0) || !(epsilon > 0))
        {
            return new PortDualResult([], double.NaN, "α and ε must be positive.");
        }

        using var solver = Solver.CreateSolver("GLOP");
        if (solver is null)
        {
            return new PortDualResult([], double.NaN, "OR-Tools' GLOP solver is not available on this machine.");
        }

        // Scaled units: ĝ' = ĝ/s, B' = B/s, u' = u/α, γ' = γ·s/α, so that u'_j + ĝ'_ij·γ'_i ≥ d̂_ij.
        var positive = cost.SelectMany(r => r).Where(c => c > 0).ToList();
        var scale = positive.Count > 0 ? positive.Average() : 1.0;
        var cap = gammaCap is { } g ? g * scale / alpha : double.PositiveInfinity;

        var gamma = new Variable[models];
        for (var i = 0; i < models; i++)
        {
            gamma[i] = solver.MakeNumVar(0, cap, $"gamma_{i}");
        }

        var objective = solver.Objective();
        objective.SetMinimization();
        for (var i = 0; i < models; i++)
        {
            objective.SetCoefficient(gamma[i], epsilon * budgets[i] / scale);
        }

        for (var j = 0; j < quality.Length; j++)
        {
            var u = solver.MakeNumVar(0, double.PositiveInfinity, $"u_{j}");
            objective.SetCoefficient(u, 1);
            for (var i = 0; i < models; i++)
            {
                var c = solver.MakeConstraint(quality[j][i], double.PositiveInfinity);
                c.SetCoefficient(u, 1);
                c.SetCoefficient(gamma[i], cost[j][i] / scale);
            }
        }

        var status = solver.Solve();
        if (status != Solver.ResultStatus.OPTIMAL)
        {
            return new PortDualResult([], double.NaN, $"The LP for PORT's budget prices ended {status}.");
        }

        return new PortDualResult(gamma.Select(v => v.SolutionValue() * alpha / scale).ToArray(), objective.Value() * alpha, null);
    }
}
