namespace Flare.Routing.Optimization.Evaluation;

/// <summary>
/// The routers the evaluator compares, each turning an <see cref="EvaluationSet"/>'s estimates (never its
/// truths, except the oracle's) into a model per query. Those with a trade-off parameter return one
/// assignment per value of their sweep.
/// </summary>
public static class OfflineRouters
{
    public static int[] Single(EvaluationSet s, int model) => Enumerable.Repeat(model, s.Queries).ToArray();

    /// <summary>The best true quality per query, ties to the cheaper model: an upper bound, not a router.</summary>
    public static int[] Oracle(EvaluationSet s) => Pick(s, (j, i) => (s.Quality(j, i), -s.TrueCost[j][i]));

    public static int[] Random(EvaluationSet s, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, s.Queries).Select(_ => random.Next(s.Models.Count)).ToArray();
    }

    public static int[] RoundRobin(EvaluationSet s) => Enumerable.Range(0, s.Queries).Select(j => j % s.Models.Count).ToArray();

    public static int[] Cheapest(EvaluationSet s) => Pick(s, (j, i) => (-s.EstimatedCost[j][i], s.EstimatedQuality[j][i]));

    public static int[] BestQuality(EvaluationSet s) => Pick(s, (j, i) => (s.EstimatedQuality[j][i], -s.EstimatedCost[j][i]));

    /// <summary>
    /// FLARE's weighted objective offline (ROUTING.md §2.1, latency off): argmax q̂ − λ·ĉ/c̄ with c̄ the mean
    /// estimated cost of all models, swept over λ (0 = best quality, large = cheapest).
    /// </summary>
    public static IReadOnlyList<(double Lambda, int[] Assignment)> Weighted(EvaluationSet s, IReadOnlyList<double> lambdas)
    {
        var meanCost = Math.Max(1e-12, s.EstimatedCost.SelectMany(r => r).Where(double.IsFinite).DefaultIfEmpty(1).Average());
        return lambdas.Select(l => (l, Pick(s, (j, i) => (s.EstimatedQuality[j][i] - l * s.EstimatedCost[j][i] / meanCost, 0.0)))).ToList();
    }

    /// <summary>
    /// A two-model threshold router in RouteLLM's style: the strong model (best mean estimated quality) when
    /// its estimated advantage over the weak one (the cheapest on average) is above t, else the weak one.
    /// </summary>
    public static IReadOnlyList<(double Threshold, int[] Assignment)> Threshold(EvaluationSet s, IReadOnlyList<double> thresholds)
    {
        var m = s.Models.Count;
        var strong = Enumerable.Range(0, m).MaxBy(i => s.EstimatedQuality.Average(r => r[i]));
        var weak = Enumerable.Range(0, m).MinBy(i => s.EstimatedCost.Average(r => r[i]));
        return thresholds.Select(t => (t, Enumerable.Range(0, s.Queries)
            .Select(j => s.EstimatedQuality[j][strong] - s.EstimatedQuality[j][weak] > t ? strong : weak).ToArray())).ToList();
    }

    /// <summary>λ values for the weighted sweep: 0, then log-spaced from 1e-3 to 1e3.</summary>
    public static IReadOnlyList<double> DefaultLambdas(int count = 60) =>
        [0, .. Enumerable.Range(0, count).Select(k => Math.Pow(10, -3 + 6.0 * k / (count - 1)))];

    private static int[] Pick(EvaluationSet s, Func<int, int, (double Primary, double Secondary)> key)
    {
        var result = new int[s.Queries];
        for (var j = 0; j < s.Queries; j++)
        {
            var best = 0;
            var bestKey = key(j, 0);
            for (var i = 1; i < s.Models.Count; i++)
            {
                var k = key(j, i);
                if (k.Primary > bestKey.Primary || (k.Primary == bestKey.Primary && k.Secondary > bestKey.Secondary))
                {
                    (best, bestKey) = (i, k);
                }
            }

            result[j] = best;
        }

        return result;
    }
}
