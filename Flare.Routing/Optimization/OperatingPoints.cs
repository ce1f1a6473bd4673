using Flare.Routing.Routing;

namespace Flare.Routing.Optimization;

/// <summary>
/// A workload sample with per-query, per-deployment predictions, stored flat (query-major) so a sweep over
/// hundreds of operating points stays in cache: index <c>j·Deployments + i</c>.
/// </summary>
public sealed class WorkloadSample
{
    public WorkloadSample(IReadOnlyList<string> deployments, double[] quality, double[] costUsd, double[] latencyMs)
    {
        var n = quality.Length / Math.Max(1, deployments.Count);
        if (deployments.Count == 0 || quality.Length != n * deployments.Count || costUsd.Length != quality.Length || latencyMs.Length != quality.Length)
        {
            throw new ArgumentException("Quality, cost and latency must each hold one value per query and deployment.");
        }

        (Deployments, Quality, CostUsd, LatencyMs, Queries) = (deployments, quality, costUsd, latencyMs, n);
    }

    public IReadOnlyList<string> Deployments { get; }
    public int Queries { get; }
    public double[] Quality { get; }
    public double[] CostUsd { get; }
    public double[] LatencyMs { get; }
}

/// <summary>Evaluates operating points (routing plans) on a workload sample and keeps the Pareto front.</summary>
public static class OperatingPoints
{
    /// <summary>What <paramref name="plan"/> would give on the sample: each query routed by the scoring core.</summary>
    public static OperatingPointMetrics Evaluate(WorkloadSample sample, RoutingPlan plan, string? label = null)
    {
        var m = sample.Deployments.Count;
        var gamma = new double[m];
        var alpha = new double[m];
        for (var i = 0; i < m; i++)
        {
            gamma[i] = plan.Gamma.GetValueOrDefault(sample.Deployments[i]);
            alpha[i] = plan.Alpha.GetValueOrDefault(sample.Deployments[i]);
        }

        // score = w_q·q − (w_c + γ)/C·c − w_l/L·ℓ − α, with the divisions hoisted out of the loop.
        var wq = plan.QualityWeight;
        var wl = plan.LatencyWeight / plan.LatencyScaleMs;
        var wc = new double[m];
        for (var i = 0; i < m; i++)
        {
            wc[i] = (plan.CostWeight + gamma[i]) / plan.CostScaleUsd;
        }

        var counts = new int[m];
        var latencies = new double[sample.Queries];
        var (quality, cost, latency) = (0.0, 0.0, 0.0);
        ReadOnlySpan<double> q = sample.Quality;
        ReadOnlySpan<double> c = sample.CostUsd;
        ReadOnlySpan<double> l = sample.LatencyMs;
        for (int j = 0, row = 0; j < sample.Queries; j++, row += m)
        {
            var best = 0;
            var bestScore = double.NegativeInfinity;
            var qr = q.Slice(row, m);
            var cr = c.Slice(row, m);
            var lr = l.Slice(row, m);
            for (var i = 0; i < qr.Length; i++)
            {
                var s = wq * qr[i] - wc[i] * cr[i] - wl * lr[i] - alpha[i];
                if (s > bestScore)
                {
                    (best, bestScore) = (i, s);
                }
            }

            counts[best]++;
            quality += q[row + best];
            cost += c[row + best];
            latency += l[row + best];
            latencies[j] = l[row + best];
        }

        var n = sample.Queries;
        var share = new Dictionary<string, double>(m);
        for (var i = 0; i < m; i++)
        {
            if (counts[i] > 0)
            {
                share[sample.Deployments[i]] = (double)counts[i] / n;
            }
        }

        return new OperatingPointMetrics(label ?? plan.Policy, quality / n, latency / n, Percentile(latencies, 0.95), cost / n * 1000, share);
    }

    /// <summary>Every plan evaluated (in parallel over the machine's cores), and the non-dominated ones.</summary>
    public static (IReadOnlyList<OperatingPointMetrics> All, IReadOnlyList<OperatingPointMetrics> Front) Sweep(WorkloadSample sample, IReadOnlyList<RoutingPlan> plans)
    {
        var all = new OperatingPointMetrics[plans.Count];
        Parallel.For(0, plans.Count, k => all[k] = Evaluate(sample, plans[k], $"{plans[k].Policy} #{k}"));
        return (all, ParetoFront.Of(all));
    }

    /// <summary>A grid of FLARE weight vectors (w_q = 1; w_c and w_l over log-spaced values and 0).</summary>
    public static IReadOnlyList<RoutingPlan> WeightGrid(int costSteps, int latencySteps, double costScaleUsd, double latencyScaleMs)
    {
        static double[] Steps(int n) => [0, .. Enumerable.Range(0, Math.Max(0, n - 1)).Select(k => Math.Pow(10, -2 + 3.0 * k / Math.Max(1, n - 2)))];
        var empty = new Dictionary<string, double>();
        return Steps(costSteps).SelectMany(wc => Steps(latencySteps).Select(wl =>
            new RoutingPlan(0, "flare", 1, wc, wl, costScaleUsd, latencyScaleMs, empty, empty))).ToList();
    }

    /// <summary>Nearest-rank percentile by selection, O(n); reorders <paramref name="values"/>.</summary>
    internal static double Percentile(double[] values, double p)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        var k = Math.Clamp((int)Math.Ceiling(p * values.Length) - 1, 0, values.Length - 1);
        var (lo, hi) = (0, values.Length - 1);
        while (lo < hi)
        {
            var pivot = values[(lo + hi) >> 1];
            var (i, j) = (lo, hi);
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else break;
        }

        return values[k];
    }
}
