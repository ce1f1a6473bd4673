using Flare.Routing.Optimization.OrTools;

namespace Flare.Routing.Optimization;

/// <summary>How a model's share of the total budget is set (ROUTING.md §2.3).</summary>
public enum BudgetSplit
{
    /// <summary>∝ sqrt(mean quality / mean cost): PORT's default.</summary>
    Weighted,
    Uniform,
    /// <summary>∝ mean cost.</summary>
    Cost,
    /// <summary>∝ mean quality.</summary>
    Quality,
}

/// <summary>What happens to a query whose chosen model has no budget left.</summary>
public enum ExhaustedBudget
{
    /// <summary>The query is not served (PORT's protocol).</summary>
    Drop,
    /// <summary>It goes to the best-scoring model that still has budget (Flare's default).</summary>
    Fallback,
}

/// <summary>When PORT's budget prices are learned.</summary>
public enum PriceUpdates
{
    /// <summary>Once, from the first ε of the stream (the paper).</summary>
    Once,

    /// <summary>
    /// From the first ε, then again each time the number of queries seen doubles, from all queries seen so
    /// far against the budget that remains (Agrawal, Wang &amp; Ye, "A Dynamic Near-Optimal Algorithm for
    /// Online Linear Programming", Operations Research 2014). Flare's default: on a stream of 500 queries ε
    /// is 13 queries, too few for prices that ration the budgets well.
    /// </summary>
    Doubling,
}

/// <summary>PORT's parameters. Defaults are the paper's ε = 0.025, α = 1e-4, weighted split and drop, with Flare's doubling price updates.</summary>
public sealed record PortOptions
{
    public double Epsilon { get; init; } = 0.025;
    public double Alpha { get; init; } = 1e-4;
    public double BudgetFactor { get; init; } = 1.0;
    public BudgetSplit Split { get; init; } = BudgetSplit.Weighted;
    public ExhaustedBudget OnExhausted { get; init; } = ExhaustedBudget.Drop;
    public PriceUpdates Updates { get; init; } = PriceUpdates.Doubling;

    /// <summary>Upper bound on each γ (the paper states 1); null for none (see <see cref="OrTools.PortDualSolver"/>).</summary>
    public double? GammaCap { get; init; }

    public int Seed { get; init; }
}

/// <summary>A stream of queries with estimates (what the router sees) and truths (what it is scored on).</summary>
/// <param name="EstimatedQuality">d̂[j][i].</param>
/// <param name="EstimatedCost">ĝ[j][i], USD.</param>
/// <param name="TrueQuality">d[j][i].</param>
/// <param name="TrueCost">g[j][i], USD.</param>
public sealed record PortWorkload(double[][] EstimatedQuality, double[][] EstimatedCost, double[][] TrueQuality, double[][] TrueCost)
{
    public int Queries => TrueQuality.Length;
    public int Models => TrueQuality.Length == 0 ? 0 : TrueQuality[0].Length;
}

/// <summary>PORT's figures on one arrival order: performance (Σ true quality of served queries), cost, served count.</summary>
public sealed record PortRun(double Performance, double Cost, int Served, double[] Gamma, double[] Budgets);

/// <summary>
/// PORT (Wu &amp; Silwal, NeurIPS 2025; ROUTING.md §2.3): route the first ε of the stream uniformly over
/// models ∪ {drop}, learn the budget prices γ from them with an LP, then send each query to
/// <c>argmax_i (α·d̂_ij − γ_i·ĝ_ij)</c>, charging true costs against each model's budget.
/// </summary>
public static class Port
{
    /// <summary>The budget of each model: B = cheapest model's true cost on every query × factor, split per <paramref name="split"/>
    /// using mean estimated quality and cost.</summary>
    public static double[] Budgets(PortWorkload w, double factor, BudgetSplit split)
    {
        var total = w.TrueCost.Sum(row => row.Min()) * factor;
        var m = w.Models;
        var weights = new double[m];
        for (var i = 0; i < m; i++)
        {
            var q = w.EstimatedQuality.Average(r => r[i]);
            var c = Math.Max(1e-12, w.EstimatedCost.Average(r => r[i]));
            weights[i] = split switch
            {
                BudgetSplit.Weighted => Math.Sqrt(Math.Max(0, q) / c),
                BudgetSplit.Uniform => 1,
                BudgetSplit.Cost => c,
                BudgetSplit.Quality => Math.Max(0, q),
                _ => 1,
            };
        }

        var sum = weights.Sum();
        return weights.Select(x => sum > 0 ? total * x / sum : total / m).ToArray();
    }

    /// <summary>
    /// Runs PORT over the queries in the order <paramref name="order"/> gives. After learning, each query goes
    /// to <c>argmax</c> over models ∪ {drop} of <c>α·d̂_ij − γ_i·ĝ_ij</c> (dropping scores 0, as in the LP the
    /// prices come from); when that model's budget cannot pay, the query is dropped or, with
    /// <see cref="ExhaustedBudget.Fallback"/>, goes to the next model with a positive score that can pay.
    /// </summary>
    public static PortRun Run(PortWorkload w, int[] order, PortOptions options)
    {
        var m = w.Models;
        var n = order.Length;
        var budgets = Budgets(w, options.BudgetFactor, options.Split);
        var remaining = (double[])budgets.Clone();
        var random = new Random(options.Seed);
        var learn = Math.Min(n, (int)Math.Ceiling(options.Epsilon * n));
        var (performance, cost, served) = (0.0, 0.0, 0);

        void Serve(int j, int i)
        {
            remaining[i] -= w.TrueCost[j][i];
            performance += w.TrueQuality[j][i];
            cost += w.TrueCost[j][i];
            served++;
        }

        // Learning phase: uniform over models ∪ {drop}.
        for (var k = 0; k < learn; k++)
        {
            var j = order[k];
            var i = random.Next(m + 1);
            if (i < m && remaining[i] >= w.TrueCost[j][i])
            {
                Serve(j, i);
            }
        }

        var gamma = new double[m];
        var nextUpdate = learn;
        var scores = new double[m];
        var ranked = new int[m];
        for (var k = learn; k < n; k++)
        {
            if (k == nextUpdate)
            {
                gamma = LearnPrices(w, order[..k], k == learn ? budgets : remaining,
                    k == learn ? options.Epsilon : (double)k / (n - k), options) ?? gamma;
                nextUpdate = options.Updates == PriceUpdates.Doubling ? 2 * k : n;
            }

            var j = order[k];
            for (var i = 0; i < m; i++)
            {
                scores[i] = options.Alpha * w.EstimatedQuality[j][i] - gamma[i] * w.EstimatedCost[j][i];
                ranked[i] = i;
            }

            Array.Sort(ranked, (a, b) => scores[b].CompareTo(scores[a]) != 0 ? scores[b].CompareTo(scores[a]) : a.CompareTo(b));
            var tries = options.OnExhausted == ExhaustedBudget.Fallback ? m : 1;
            for (var t = 0; t < tries && scores[ranked[t]] >= 0; t++)
            {
                var i = ranked[t];
                if (remaining[i] >= w.TrueCost[j][i])
                {
                    Serve(j, i);
                    break;
                }
            }
        }

        return new PortRun(performance, cost, served, gamma, budgets);
    }

    /// <summary>
    /// γ from the queries seen so far: the first time against the whole budgets scaled by ε, later against
    /// what remains scaled by seen / still to come. Null when the LP fails (the old prices stay).
    /// </summary>
    private static double[]? LearnPrices(PortWorkload w, int[] seen, double[] budgets, double scale, PortOptions options)
    {
        var prices = PortDualSolver.Solve(
            seen.Select(j => w.EstimatedQuality[j]).ToArray(),
            seen.Select(j => w.EstimatedCost[j]).ToArray(),
            budgets.Select(b => Math.Max(0, b)).ToArray(), scale, options.Alpha, options.GammaCap);
        return prices.Succeeded ? prices.Gamma : null;
    }

    /// <summary>
    /// The approximate offline optimum: the LP relaxation of max Σ d̂·x s.t. Σ_j ĝ·x ≤ B_i, Σ_i x ≤ 1 on the
    /// estimates, its routing (each query to its largest x_ij, none when all are 0) replayed with the same
    /// true-budget enforcement, scored on true quality.
    /// </summary>
    public static PortRun ApproximateOptimum(PortWorkload w, int[] order, PortOptions options)
    {
        var budgets = Budgets(w, options.BudgetFactor, options.Split);
        var assignment = OrTools.PortPrimalSolver.Solve(w.EstimatedQuality, w.EstimatedCost, budgets);
        var remaining = (double[])budgets.Clone();
        var (performance, cost, served) = (0.0, 0.0, 0);
        foreach (var j in order)
        {
            var i = assignment[j];
            if (i >= 0 && remaining[i] >= w.TrueCost[j][i])
            {
                remaining[i] -= w.TrueCost[j][i];
                performance += w.TrueQuality[j][i];
                cost += w.TrueCost[j][i];
                served++;
            }
        }

        return new PortRun(performance, cost, served, [], budgets);
    }
}
