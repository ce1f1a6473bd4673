namespace Flare.Routing.Profiles;

/// <summary>Throughput and goodput measured directly from samples, without a fitted model (ROUTING.md §3).</summary>
public static class ProfileMetrics
{
    /// <summary>
    /// Throughput of each load level (samples grouped by concurrency), by increasing concurrency. Requests per
    /// second is the level's recorded rate when every sample has one, else Little's law: concurrency / mean
    /// e2e of its successful samples. Token rates use the level's mean lengths. Levels with neither are left out.
    /// </summary>
    public static IReadOnlyList<ThroughputPoint> MeasuredThroughput(IEnumerable<ProfileSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var result = new List<ThroughputPoint>();
        foreach (var level in samples.Where(s => !s.IsError).GroupBy(s => s.Concurrency).OrderBy(g => g.Key))
        {
            var list = level.ToList();
            if (LevelRate(list) is { } rps)
            {
                var output = list.Average(s => (double)s.OutputTokens);
                var input = list.Average(s => (double)s.InputTokens);
                result.Add(new ThroughputPoint(level.Key, rps, rps * output, rps * (input + output)));
            }
        }

        return result;
    }

    /// <summary>
    /// Goodput from samples: over load levels, the highest rate of requests that met <paramref name="slo"/> —
    /// the level's requests per second times the share of its requests (errors included, as misses) meeting
    /// every bound. Zero when no request met it; null when no level has a rate.
    /// </summary>
    /// <remarks>DistServe (Zhong et al., OSDI 2024) instead reports the highest rate at which a target share
    /// (say 90 %) of requests meets the SLO; the share of each level is what both need, and this form needs no
    /// extra threshold.</remarks>
    public static double? GoodputFromSamples(IEnumerable<ProfileSample> samples, LatencySlo slo)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(slo);
        double? best = null;
        foreach (var level in samples.GroupBy(s => s.Concurrency))
        {
            var all = level.ToList();
            if (LevelRate(all.Where(s => !s.IsError).ToList()) is not { } rps)
            {
                continue;
            }

            var met = all.Count(s => !s.IsError && slo.IsMetBy(s.TtftMs, s.TpotMs, s.E2eMs));
            var goodput = rps * met / all.Count;
            best = best is null ? goodput : Math.Max(best.Value, goodput);
        }

        return best;
    }

    internal static double? LevelRate(IReadOnlyList<ProfileSample> level)
    {
        if (level.Count == 0)
        {
            return null;
        }

        if (level.All(s => s.RequestRatePerSecond is > 0))
        {
            return level.Average(s => s.RequestRatePerSecond!.Value);
        }

        var e2e = level.Select(s => s.E2eMs).OfType<double>().Where(v => v > 0).ToList();
        return e2e.Count == 0 ? null : level[0].Concurrency / (e2e.Average() / 1000.0);
    }
}
