namespace Flare.Routing.Optimization;

/// <summary>
/// What an operating point is predicted to give on a workload sample (ROUTING.md §5). Quality is
/// maximised; latencies and cost are minimised.
/// </summary>
/// <param name="CostPer1kUsd">Cost of 1,000 requests, USD.</param>
/// <param name="TrafficShare">Fraction of requests per deployment name.</param>
public sealed record OperatingPointMetrics(
    string Label,
    double MeanQuality,
    double MeanLatencyMs,
    double P95LatencyMs,
    double CostPer1kUsd,
    IReadOnlyDictionary<string, double> TrafficShare);

/// <summary>The non-dominated operating points over (mean quality, mean latency, p95 latency, cost per 1k).</summary>
public static class ParetoFront
{
    /// <summary>
    /// Keeps each point no other point dominates (at least as good in every objective and better in one).
    /// Duplicates are kept once. O(n²) in the number of operating points, which the explorer keeps in the
    /// hundreds; each point's metrics already summarise the whole workload sample.
    /// </summary>
    public static IReadOnlyList<OperatingPointMetrics> Of(IReadOnlyList<OperatingPointMetrics> points)
    {
        var front = new List<OperatingPointMetrics>();
        for (var i = 0; i < points.Count; i++)
        {
            var dominated = false;
            for (var j = 0; j < points.Count && !dominated; j++)
            {
                dominated = j != i && (Dominates(points[j], points[i]) || (j < i && Same(points[j], points[i])));
            }

            if (!dominated)
            {
                front.Add(points[i]);
            }
        }

        return front;
    }

    public static bool Dominates(OperatingPointMetrics a, OperatingPointMetrics b) =>
        a.MeanQuality >= b.MeanQuality && a.MeanLatencyMs <= b.MeanLatencyMs && a.P95LatencyMs <= b.P95LatencyMs && a.CostPer1kUsd <= b.CostPer1kUsd
        && (a.MeanQuality > b.MeanQuality || a.MeanLatencyMs < b.MeanLatencyMs || a.P95LatencyMs < b.P95LatencyMs || a.CostPer1kUsd < b.CostPer1kUsd);

    private static bool Same(OperatingPointMetrics a, OperatingPointMetrics b) =>
        a.MeanQuality == b.MeanQuality && a.MeanLatencyMs == b.MeanLatencyMs && a.P95LatencyMs == b.P95LatencyMs && a.CostPer1kUsd == b.CostPer1kUsd;
}
