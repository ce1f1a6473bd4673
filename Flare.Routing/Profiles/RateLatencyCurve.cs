namespace Flare.Routing.Profiles;

/// <summary>Which latency a <see cref="RateLatencyCurve"/> or a metric is about.</summary>
public enum LatencyMetric
{
    /// <summary>Time to first token (RouterWise's example SLO: mean TTFT).</summary>
    Ttft,

    /// <summary>Time per output token.</summary>
    Tpot,

    /// <summary>End-to-end latency.</summary>
    E2e,
}

/// <summary>What a <see cref="RateLatencyCurve"/> answers beyond its last measured rate.</summary>
public enum RateExtrapolation
{
    /// <summary>Continue the last segment's slope (flat when the curve has one point). Optimistic near
    /// saturation, where real latency turns up sharply; the default because a solver needs finite numbers.</summary>
    ExtendLastSlope,

    /// <summary>Positive infinity: a rate beyond what was measured is treated as infeasible.</summary>
    Infinite,
}

/// <summary>One measured load level: an arrival (= completion) rate and the mean latency at it.</summary>
/// <param name="RequestsPerSecond">Requests per second the deployment served.</param>
/// <param name="LatencyMs">Mean latency at that rate, ms.</param>
/// <param name="Weight">How many requests the mean is over; used when points are pooled.</param>
public readonly record struct RateLatencyPoint(double RequestsPerSecond, double LatencyMs, int Weight = 1);

/// <summary>
/// RouterWise's <c>ℓ_i(λ)</c> (ROUTING.md §2.2): a deployment's latency as a piecewise-linear function of the
/// arrival rate routed to it, through measured load points.
/// </summary>
/// <remarks>
/// Points are sorted by rate; points at the same rate are pooled (weighted mean); then the latencies are made
/// non-decreasing by pool-adjacent-violators (weighted isotonic regression), because more load never makes a
/// server faster and RouterWise's subgradient method needs a monotone ℓ. Between points: linear interpolation.
/// Below the first point: flat at its latency (a lighter load cannot beat the lightest measured one by much, and
/// never goes below it in a monotone model). Beyond the last: <see cref="RateExtrapolation"/>.
/// </remarks>
public sealed class RateLatencyCurve
{
    private readonly RateLatencyPoint[] _points;

    private RateLatencyCurve(RateLatencyPoint[] points, RateExtrapolation beyond)
    {
        _points = points;
        Beyond = beyond;
    }

    /// <summary>The points after pooling and the monotone correction, by increasing rate.</summary>
    public IReadOnlyList<RateLatencyPoint> Points => _points;

    /// <summary>The rule past the last point.</summary>
    public RateExtrapolation Beyond { get; }

    /// <summary>The highest measured rate; past it the curve extrapolates.</summary>
    public double MaxMeasuredRate => _points[^1].RequestsPerSecond;

    /// <summary>Latency in ms at <paramref name="requestsPerSecond"/>.</summary>
    public double LatencyMs(double requestsPerSecond)
    {
        var p = _points;
        if (requestsPerSecond <= p[0].RequestsPerSecond)
        {
            return p[0].LatencyMs;
        }

        if (requestsPerSecond > p[^1].RequestsPerSecond)
        {
            if (Beyond == RateExtrapolation.Infinite)
            {
                return double.PositiveInfinity;
            }

            if (p.Length == 1)
            {
                return p[0].LatencyMs;
            }

            var slope = Math.Max(0, (p[^1].LatencyMs - p[^2].LatencyMs) / (p[^1].RequestsPerSecond - p[^2].RequestsPerSecond));
            return p[^1].LatencyMs + slope * (requestsPerSecond - p[^1].RequestsPerSecond);
        }

        var hi = 1;
        while (p[hi].RequestsPerSecond < requestsPerSecond)
        {
            hi++;
        }

        var lo = p[hi - 1];
        var up = p[hi];
        var t = (requestsPerSecond - lo.RequestsPerSecond) / (up.RequestsPerSecond - lo.RequestsPerSecond);
        return lo.LatencyMs + t * (up.LatencyMs - lo.LatencyMs);
    }

    /// <summary>Builds the curve from measured points. Throws when there is no finite point with a
    /// non-negative rate and positive latency.</summary>
    public static RateLatencyCurve FromPoints(IEnumerable<RateLatencyPoint> points, RateExtrapolation beyond = RateExtrapolation.ExtendLastSlope)
    {
        ArgumentNullException.ThrowIfNull(points);
        var pooled = points
            .Where(p => double.IsFinite(p.RequestsPerSecond) && p.RequestsPerSecond >= 0 && double.IsFinite(p.LatencyMs) && p.LatencyMs > 0)
            .GroupBy(p => p.RequestsPerSecond)
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var weight = g.Sum(p => Math.Max(1, p.Weight));
                return new RateLatencyPoint(g.Key, g.Sum(p => p.LatencyMs * Math.Max(1, p.Weight)) / weight, weight);
            })
            .ToList();
        if (pooled.Count == 0)
        {
            throw new ArgumentException("A rate-latency curve needs at least one point with a finite rate ≥ 0 and latency > 0.", nameof(points));
        }

        return new RateLatencyCurve(MakeMonotone(pooled), beyond);
    }

    /// <summary>
    /// Builds the curve from samples: one point per load level (concurrency), at the mean of
    /// <paramref name="metric"/> over its successful samples. The rate is the samples' recorded
    /// <see cref="ProfileSample.RequestRatePerSecond"/> when all have one, else Little's law: concurrency / mean
    /// e2e. Levels without the metric (or without e2e, when the rate must be derived) are skipped; null when
    /// no level is left.
    /// </summary>
    public static RateLatencyCurve? FromSamples(IEnumerable<ProfileSample> samples, LatencyMetric metric, RateExtrapolation beyond = RateExtrapolation.ExtendLastSlope)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var points = new List<RateLatencyPoint>();
        foreach (var level in samples.Where(s => !s.IsError).GroupBy(s => s.Concurrency))
        {
            var values = level.Select(s => Metric(s, metric)).OfType<double>().ToList();
            var rate = ProfileMetrics.LevelRate(level.ToList());
            if (values.Count > 0 && rate is { } r)
            {
                points.Add(new RateLatencyPoint(r, values.Average(), values.Count));
            }
        }

        return points.Count == 0 ? null : FromPoints(points, beyond);
    }

    /// <summary>
    /// Builds the curve from a fitted model for requests of the given lengths, at concurrencies 1 …
    /// <paramref name="maxConcurrency"/>: rate = c / e2e(c), latency = the metric at c.
    /// </summary>
    public static RateLatencyCurve FromModel(LatencyModel model, int inputTokens, int outputTokens, LatencyMetric metric, double maxConcurrency, RateExtrapolation beyond = RateExtrapolation.ExtendLastSlope)
    {
        ArgumentNullException.ThrowIfNull(model);
        var points = new List<RateLatencyPoint>();
        for (var c = 1; c <= Math.Max(1, Math.Floor(maxConcurrency)); c++)
        {
            var latency = metric switch
            {
                LatencyMetric.Ttft => model.TtftMs(inputTokens, outputTokens, c),
                LatencyMetric.Tpot => model.TpotMs(inputTokens, outputTokens, c),
                _ => model.E2eMs(inputTokens, outputTokens, c),
            };
            points.Add(new RateLatencyPoint(model.Throughput(inputTokens, outputTokens, c).RequestsPerSecond, latency));
        }

        return FromPoints(points, beyond);
    }

    internal static double? Metric(ProfileSample s, LatencyMetric metric) => metric switch
    {
        LatencyMetric.Ttft => s.TtftMs,
        LatencyMetric.Tpot => s.TpotMs,
        _ => s.E2eMs,
    };

    // Pool-adjacent-violators: merge neighbouring blocks while a block's mean is below its left neighbour's.
    private static RateLatencyPoint[] MakeMonotone(List<RateLatencyPoint> points)
    {
        var blocks = new List<(double Sum, double Weight, int Count)>();
        foreach (var p in points)
        {
            blocks.Add((p.LatencyMs * p.Weight, p.Weight, 1));
            while (blocks.Count > 1 && blocks[^1].Sum / blocks[^1].Weight < blocks[^2].Sum / blocks[^2].Weight)
            {
                var last = blocks[^1];
                var previous = blocks[^2];
                blocks.RemoveAt(blocks.Count - 1);
                blocks[^1] = (previous.Sum + last.Sum, previous.Weight + last.Weight, previous.Count + last.Count);
            }
        }

        var result = new RateLatencyPoint[points.Count];
        var i = 0;
        foreach (var block in blocks)
        {
            for (var k = 0; k < block.Count; k++, i++)
            {
                result[i] = points[i] with { LatencyMs = block.Sum / block.Weight };
            }
        }

        return result;
    }
}
