namespace Flare.Routing.Optimization;

/// <summary>A RouterWise problem on a workload sample (ROUTING.md §2.2).</summary>
/// <param name="Quality">q̂[j][i]: estimated quality of deployment i on prompt j.</param>
/// <param name="LatencyMs">ℓ_i(rate): deployment i's latency (mean TTFT or e2e, ms) at an arrival rate in requests/s.</param>
/// <param name="ArrivalRate">λ: total requests per second.</param>
/// <param name="SloMs">τ: the bound on the mean latency, ms.</param>
public sealed record RouterWiseProblem(double[][] Quality, IReadOnlyList<Func<double, double>> LatencyMs, double ArrivalRate, double SloMs);

/// <summary>RouterWise's answer: the load prices α (route each prompt to argmax_i q̂_ij − α_i), the
/// latency multiplier β, what they give, or why no split meets the SLO.</summary>
public sealed record RouterWiseSolution(
    double[] Alpha,
    double Beta,
    double[] Shares,
    double MeanQuality,
    double MeanLatencyMs,
    bool Feasible,
    string? Reason);

/// <summary>
/// RouterWise's routing under a latency SLO (Hosseini Kasnavieh et al. 2026; ROUTING.md §2.2):
/// <c>max_w S(w)</c> s.t. <c>Σ_i w_i·ℓ_i(λ·w_i) ≤ τ</c>. S's dual routes each prompt to
/// <c>argmax_i (q̂_ij − α_i)</c> with <c>∂S/∂w_i = α_i</c>; for a multiplier β on the latency constraint
/// the stationarity condition is <c>α_i = β·∂/∂w_i [w_i·ℓ_i(λ·w_i)]</c>, which is found by damped
/// fixed-point iteration on α; β is then bisected to the smallest value whose split meets τ, which is
/// the split of best quality among those that meet it.
/// </summary>
public static class RouterWise
{
    private const int FixedPointIterations = 300;
    private const int BisectionSteps = 50;

    public static RouterWiseSolution Solve(RouterWiseProblem problem)
    {
        var m = problem.LatencyMs.Count;
        if (problem.Quality.Length == 0 || m == 0 || problem.Quality.Any(r => r.Length != m))
        {
            return new RouterWiseSolution([], 0, [], 0, 0, false, "The problem needs at least one prompt and one deployment, with a quality per pair.");
        }

        var unconstrained = Evaluate(problem, new double[m], 0);
        if (unconstrained.MeanLatencyMs <= problem.SloMs)
        {
            return unconstrained;
        }

        // Grow β until the split meets the SLO (or cannot: then say by how much the fastest split misses it).
        var hi = 1e-3;
        var atHi = SolveForBeta(problem, hi);
        for (var i = 0; i < 60 && atHi.MeanLatencyMs > problem.SloMs; i++)
        {
            hi *= 2;
            atHi = SolveForBeta(problem, hi);
        }

        if (atHi.MeanLatencyMs > problem.SloMs)
        {
            var fastest = FastestSplit(problem);
            return fastest with
            {
                Feasible = false,
                Reason = $"No split meets the SLO: the fastest gives a mean latency of {fastest.MeanLatencyMs:0.#} ms, " +
                         $"{fastest.MeanLatencyMs - problem.SloMs:0.#} ms over the {problem.SloMs:0.#} ms target at {problem.ArrivalRate:0.##} requests/s.",
            };
        }

        var lo = 0.0;
        var best = atHi;
        for (var step = 0; step < BisectionSteps; step++)
        {
            var mid = (lo + hi) / 2;
            var candidate = SolveForBeta(problem, mid);
            if (candidate.MeanLatencyMs <= problem.SloMs)
            {
                hi = mid;
                if (candidate.MeanQuality >= best.MeanQuality)
                {
                    best = candidate;
                }
            }
            else
            {
                lo = mid;
            }
        }

        return best;
    }

    /// <summary>Route every prompt by <c>argmax_i (q̂_ij − α_i)</c> (ties to the lower index) and measure the split.</summary>
    public static RouterWiseSolution Evaluate(RouterWiseProblem problem, double[] alpha, double beta)
    {
        var m = alpha.Length;
        var counts = new int[m];
        var quality = 0.0;
        foreach (var row in problem.Quality)
        {
            var pick = 0;
            for (var i = 1; i < m; i++)
            {
                if (row[i] - alpha[i] > row[pick] - alpha[pick])
                {
                    pick = i;
                }
            }

            counts[pick]++;
            quality += row[pick];
        }

        var n = problem.Quality.Length;
        var shares = counts.Select(c => (double)c / n).ToArray();
        var latency = MeanLatency(problem, shares);
        return new RouterWiseSolution((double[])alpha.Clone(), beta, shares, quality / n, latency, latency <= problem.SloMs, null);
    }

    /// <summary>Σ_i w_i·ℓ_i(λ·w_i): the mean latency a request sees under shares w.</summary>
    public static double MeanLatency(RouterWiseProblem problem, double[] shares)
    {
        var total = 0.0;
        for (var i = 0; i < shares.Length; i++)
        {
            if (shares[i] > 0)
            {
                total += shares[i] * problem.LatencyMs[i](problem.ArrivalRate * shares[i]);
            }
        }

        return total;
    }

    private static RouterWiseSolution SolveForBeta(RouterWiseProblem problem, double beta)
    {
        var m = problem.LatencyMs.Count;
        var alpha = new double[m];
        var current = Evaluate(problem, alpha, beta);
        for (var k = 1; k <= FixedPointIterations; k++)
        {
            var eta = 1.0 / (1 + k / 10.0);
            for (var i = 0; i < m; i++)
            {
                var target = beta * MarginalLatency(problem, i, current.Shares[i]);
                alpha[i] += eta * (target - alpha[i]);
            }

            current = Evaluate(problem, alpha, beta);
        }

        return current;
    }

    /// <summary>∂/∂w [w·ℓ(λ·w)] = ℓ(λw) + λ·w·ℓ'(λw), with a central difference for ℓ'.</summary>
    private static double MarginalLatency(RouterWiseProblem problem, int i, double share)
    {
        var rate = problem.ArrivalRate * share;
        var h = Math.Max(1e-4, rate * 1e-3);
        var l = problem.LatencyMs[i];
        var derivative = (l(rate + h) - l(Math.Max(0, rate - h))) / (rate + h - Math.Max(0, rate - h));
        return l(rate) + rate * derivative;
    }

    /// <summary>The split that minimises mean latency alone (quality ignored): how close the SLO can get at all.</summary>
    private static RouterWiseSolution FastestSplit(RouterWiseProblem problem)
    {
        var m = problem.LatencyMs.Count;
        var zeroQuality = new RouterWiseProblem(problem.Quality.Select(r => new double[m]).ToArray(), problem.LatencyMs, problem.ArrivalRate, problem.SloMs);
        var alpha = new double[m];
        var current = Evaluate(zeroQuality, alpha, 1);
        // Without quality differences every prompt ties; split shares greedily by marginal latency instead.
        var shares = new double[m];
        const int units = 1000;
        for (var u = 0; u < units; u++)
        {
            var best = 0;
            var bestCost = double.MaxValue;
            for (var i = 0; i < m; i++)
            {
                shares[i] += 1.0 / units;
                var cost = MeanLatency(problem, shares);
                shares[i] -= 1.0 / units;
                if (cost < bestCost)
                {
                    (best, bestCost) = (i, cost);
                }
            }

            shares[best] += 1.0 / units;
        }

        return current with { Shares = shares, MeanLatencyMs = MeanLatency(problem, shares), MeanQuality = double.NaN };
    }
}
