using Flare.Routing.Profiles;

namespace Flare.Routing.Optimization;

/// <summary>RouterWise's GPU allocation advice for an explorer point, beside the allocation the registry has now.</summary>
/// <param name="Current">Each GPU-backed deployment's model on its GPUs today.</param>
/// <param name="Search">The setup search's answer (its placements, its routing, or why none meets the bound).</param>
/// <param name="SloMs">The bound on the mean latency the search met, ms.</param>
/// <param name="Basis">Where that bound came from, in words.</param>
public sealed record AllocationAdvice(IReadOnlyList<Placement> Current, SetupSearchResult Search, double SloMs, string Basis);

/// <summary>
/// Runs RouterWise's setup search (<see cref="SetupSearch"/>, OR-Tools' CP-SAT enumeration) for an explorer point:
/// which models to run on which GPUs of the pool, so that the best mean quality meets the latency bound at the arrival rate.
/// </summary>
/// <remarks>
/// Only placements that have a profile are considered (a model on a GPU type and count that some deployment was profiled
/// on): latency elsewhere is not known. API deployments take no GPUs and are left out. RouterWise bounds the mean latency;
/// with a p95 SLO the bound is the chosen point's mean latency.
/// </remarks>
public static class ExplorerAllocation
{
    /// <param name="pool">The GPU pool (type, memory, count).</param>
    /// <param name="chosen">The explorer's chosen point; its mean latency is the bound when the SLO is not on the mean.</param>
    /// <param name="maxQueries">Prompts of the sample (an even stride) the search routes; each setup costs a RouterWise solve.</param>
    public static AllocationAdvice? Recommend(ExplorerSample sample, IReadOnlyList<PoolGpu> pool, ExplorerSettings settings, ExplorerPoint? chosen, int maxQueries = 300)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(settings);
        var gpu = Enumerable.Range(0, sample.Deployments.Count)
            .Where(i => sample.Deployments[i] is { GpuType: not null, GpuCount: > 0 })
            .ToList();
        var current = gpu.Select(i => new Placement(sample.Deployments[i].Model, sample.Deployments[i].GpuType!, sample.Deployments[i].GpuCount)).ToList();
        double slo;
        string basis;
        if (settings is { Statistic: LatencyStatistic.Mean, SloMs: { } mean })
        {
            (slo, basis) = (mean, $"the {settings.LatencyName} SLO");
        }
        else if (chosen is { MeanLatencyMs: var chosenMean } && double.IsFinite(chosenMean))
        {
            (slo, basis) = (chosenMean, $"the chosen point's mean {(settings.Metric == LatencyMetric.Ttft ? "TTFT" : "e2e")}");
        }
        else
        {
            return null;
        }

        if (gpu.Count == 0)
        {
            return new AllocationAdvice(current, new SetupSearchResult([], null, 0, 0, "No deployment runs on GPUs of the pool."), slo, basis);
        }

        // One column per model, read from its first GPU-backed deployment (q̂ is the model's, whatever its GPUs).
        var columns = gpu.GroupBy(i => sample.Deployments[i].Model).Select(g => g.First()).ToList();
        var models = columns.Select(i => new SetupModel(sample.Deployments[i].Model, sample.Deployments[i].ParameterCountBillions)).ToList();
        var m = sample.Deployments.Count;
        var size = Math.Clamp(maxQueries, 1, sample.Queries);
        var quality = Enumerable.Range(0, size).Select(k => (int)((long)k * sample.Queries / size))
            .Select(j => columns.Select(i => sample.Quality[j * m + i]).ToArray())
            .ToArray();
        var curves = gpu.ToDictionary(
            i => (sample.Deployments[i].Model, sample.Deployments[i].GpuType!, sample.Deployments[i].GpuCount),
            i => sample.RateLatency(i, settings.Metric));
        Func<double, double>? Latency(SetupModel model, PoolGpu type, int gpus) =>
            curves.GetValueOrDefault((model.Name, type.GpuType, gpus));

        var search = SetupSearch.Solve(new SetupSearchProblem(models, pool, quality, Latency, Math.Max(0, settings.ArrivalRatePerSecond), slo));
        return new AllocationAdvice(current, search, slo, basis);
    }
}
