namespace Flare.Routing.Optimization.Evaluation;

/// <summary>One policy's trade-off sweep and its AIQ.</summary>
public sealed record PolicyCurve(string Policy, IReadOnlyList<CostQuality> Points, double Aiq, double? CostFractionFor95PctOfBestSingle);

/// <summary>The figures the <c>eval</c> verb prints (ROUTING.md §5).</summary>
public sealed record EvaluationReport(
    IReadOnlyDictionary<string, CostQuality> SingleModels,
    CostQuality Oracle,
    double CostMin,
    double CostMax,
    double AiqSingleModelsHull,
    double OracleAiq,
    IReadOnlyList<PolicyCurve> Policies);

public static class RouterEvaluation
{
    /// <summary>Single models, the oracle, and each curve's AIQ over the single models' cost range.</summary>
    public static EvaluationReport Evaluate(EvaluationSet s, IReadOnlyDictionary<string, IReadOnlyList<CostQuality>> curves)
    {
        var singles = Enumerable.Range(0, s.Models.Count).ToDictionary(i => s.Models[i], i => s.Score(OfflineRouters.Single(s, i)));
        var costMin = singles.Values.Min(p => p.CostPerQuery);
        var costMax = singles.Values.Max(p => p.CostPerQuery);
        if (!(costMax > costMin))
        {
            costMax = costMin + Math.Max(1e-12, costMin * 1e-6);
        }

        var oracle = s.Score(OfflineRouters.Oracle(s));
        var best = singles.Values.MaxBy(p => p.Quality);
        return new EvaluationReport(
            singles,
            oracle,
            costMin,
            costMax,
            Aiq.Compute(singles.Values, costMin, costMax),
            Aiq.Compute([.. singles.Values, oracle], costMin, costMax),
            curves.Select(c => new PolicyCurve(c.Key, c.Value, Aiq.Compute(c.Value, costMin, costMax), CostFractionToReach(c.Value, 0.95 * best.Quality, best.CostPerQuery))).ToList());
    }

    /// <summary>
    /// The cheapest cost on the curve's hull that reaches <paramref name="quality"/> (linear between hull
    /// points), as a fraction of <paramref name="referenceCost"/>; null when the curve never reaches it.
    /// </summary>
    public static double? CostFractionToReach(IEnumerable<CostQuality> points, double quality, double referenceCost)
    {
        var hull = Aiq.Hull(points);
        for (var k = 0; k < hull.Count; k++)
        {
            if (hull[k].Quality >= quality)
            {
                if (k == 0)
                {
                    return hull[0].CostPerQuery / referenceCost;
                }

                var (a, b) = (hull[k - 1], hull[k]);
                var cost = a.CostPerQuery + (b.CostPerQuery - a.CostPerQuery) * (quality - a.Quality) / (b.Quality - a.Quality);
                return cost / referenceCost;
            }
        }

        return null;
    }
}
