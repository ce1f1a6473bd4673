namespace Flare.Routing.Optimization.Evaluation;

/// <summary>
/// A labelled query set for offline evaluation: per query j and model i, what the router sees (estimates)
/// and what it is scored on (truths). Missing truths are NaN and count as quality 0 when routed there.
/// </summary>
public sealed record EvaluationSet(
    IReadOnlyList<string> Models,
    double[][] EstimatedQuality,
    double[][] EstimatedCost,
    double[][] TrueQuality,
    double[][] TrueCost)
{
    public int Queries => TrueQuality.Length;

    public double Quality(int j, int i) => double.IsNaN(TrueQuality[j][i]) ? 0 : TrueQuality[j][i];

    /// <summary>Mean true quality and cost per query of an assignment (model per query, −1 = dropped: quality 0, cost 0).</summary>
    public CostQuality Score(int[] assignment)
    {
        var (quality, cost) = (0.0, 0.0);
        for (var j = 0; j < assignment.Length; j++)
        {
            if (assignment[j] >= 0)
            {
                quality += Quality(j, assignment[j]);
                cost += TrueCost[j][assignment[j]];
            }
        }

        return new CostQuality(cost / Queries, quality / Queries);
    }
}
