namespace Flare.Routing.Optimization;

/// <summary>One operating point of a router on the cost/quality plane.</summary>
/// <param name="CostPerQuery">Mean cost per query, USD.</param>
/// <param name="Quality">Mean quality in [0, 1].</param>
public readonly record struct CostQuality(double CostPerQuery, double Quality);

/// <summary>
/// Average Improvement in Quality (RouterBench, Hu et al. 2024), as ROUTING.md §5 fixes it: the upper
/// non-decreasing convex hull of a router's (cost, quality) points, integrated over a fixed cost range
/// [cheapest single model, most expensive single model] and divided by its width.
/// </summary>
public static class Aiq
{
    /// <summary>
    /// The hull: drop every point under a chord between two others (upper convex hull), then every point
    /// lower than one to its left (non-decreasing). Sorted by cost.
    /// </summary>
    public static IReadOnlyList<CostQuality> Hull(IEnumerable<CostQuality> points)
    {
        // Per cost keep the best quality; sort by cost.
        var sorted = points
            .Where(p => double.IsFinite(p.CostPerQuery) && double.IsFinite(p.Quality))
            .GroupBy(p => p.CostPerQuery)
            .Select(g => new CostQuality(g.Key, g.Max(p => p.Quality)))
            .OrderBy(p => p.CostPerQuery)
            .ToList();

        // Upper hull by the monotone chain: a point stays only if it turns clockwise.
        var upper = new List<CostQuality>(sorted.Count);
        foreach (var p in sorted)
        {
            while (upper.Count >= 2 && Cross(upper[^2], upper[^1], p) >= 0)
            {
                upper.RemoveAt(upper.Count - 1);
            }

            upper.Add(p);
        }

        // Non-decreasing: a point lower than (or equal to) one to its left adds nothing.
        var result = new List<CostQuality>(upper.Count);
        foreach (var p in upper)
        {
            if (result.Count == 0 || p.Quality > result[^1].Quality)
            {
                result.Add(p);
            }
        }

        return result;
    }

    /// <summary>
    /// AIQ of <paramref name="points"/> over [<paramref name="costMin"/>, <paramref name="costMax"/>]: quality 0
    /// left of the hull's cheapest point, linear between hull points, flat at the last quality right of
    /// its most expensive point; the integral divided by the range width.
    /// </summary>
    public static double Compute(IEnumerable<CostQuality> points, double costMin, double costMax)
    {
        if (!(costMax > costMin))
        {
            throw new ArgumentException($"The cost range must have positive width (got {costMin} to {costMax}).");
        }

        var hull = Hull(points);
        if (hull.Count == 0)
        {
            return 0;
        }

        var area = 0.0;
        // Segments of the piecewise-linear curve, clipped to the range.
        for (var i = 0; i < hull.Count - 1; i++)
        {
            area += SegmentArea(hull[i], hull[i + 1], costMin, costMax);
        }

        var last = hull[^1];
        if (last.CostPerQuery < costMax)
        {
            area += last.Quality * (costMax - Math.Max(last.CostPerQuery, costMin));
        }

        return area / (costMax - costMin);
    }

    private static double SegmentArea(CostQuality a, CostQuality b, double lo, double hi)
    {
        var x0 = Math.Max(a.CostPerQuery, lo);
        var x1 = Math.Min(b.CostPerQuery, hi);
        if (x1 <= x0)
        {
            return 0;
        }

        double At(double x) => a.Quality + (b.Quality - a.Quality) * (x - a.CostPerQuery) / (b.CostPerQuery - a.CostPerQuery);
        return (At(x0) + At(x1)) / 2 * (x1 - x0);
    }

    /// <summary>z-component of (b − a) × (c − a); ≥ 0 means b is on or under the chord a→c.</summary>
    private static double Cross(CostQuality a, CostQuality b, CostQuality c) =>
        (b.CostPerQuery - a.CostPerQuery) * (c.Quality - a.Quality) - (b.Quality - a.Quality) * (c.CostPerQuery - a.CostPerQuery);
}
