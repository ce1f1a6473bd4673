using Flare.Routing.Estimation.Index;

namespace Flare.Routing.Estimation;

/// <summary>One model's estimation error over a query set.</summary>
/// <param name="Model">The model.</param>
/// <param name="QualityMae">Mean |q̂ − s| over the queries that have a score for the model.</param>
/// <param name="Scored">Those queries.</param>
/// <param name="OutputTokensMape">Mean |L̂ − L| / L over the queries with a known output length L ≥ 1 (null without any).</param>
/// <param name="Lengths">Those queries.</param>
public sealed record ModelError(string Model, double QualityMae, int Scored, double? OutputTokensMape, int Lengths);

/// <summary>An aggregation's error over a query set.</summary>
/// <param name="Options">The aggregation.</param>
/// <param name="QualityMae">Mean absolute error over every (query, model) pair with a score.</param>
/// <param name="QualityRmse">Root mean squared error over the same pairs (for 0/1 scores, the square root of the Brier score).</param>
/// <param name="Pairs">Those pairs.</param>
/// <param name="OutputTokensMape">MAPE of the output length over every pair with a known length; null without any.</param>
/// <param name="PerModel">Per model, in the history's model order.</param>
public sealed record EstimatorError(EstimatorOptions Options, double QualityMae, double QualityRmse, int Pairs, double? OutputTokensMape, IReadOnlyList<ModelError> PerModel);

/// <summary>How often the index finds the exact nearest neighbours.</summary>
/// <param name="K">Neighbours compared.</param>
/// <param name="Recall">Mean over queries of |approximate top k ∩ exact top k| / k.</param>
/// <param name="Queries">Queries measured.</param>
public sealed record IndexRecall(int K, double Recall, int Queries);

/// <summary>One fold-averaged grid point of a cross-validation.</summary>
public sealed record CrossValidationPoint(EstimatorOptions Options, double QualityMae, int Pairs);

/// <summary>The outcome of <see cref="EstimatorEvaluation.CrossValidate"/>: every grid point, best first.</summary>
public sealed record CrossValidationResult(IReadOnlyList<CrossValidationPoint> Points, int Folds, int Seed)
{
    /// <summary>The grid point with the lowest MAE.</summary>
    public CrossValidationPoint Best => Points[0];
}

/// <summary>Measures estimators against held-out labelled prompts: quality MAE, output-length MAPE, index recall,
/// and k-fold cross-validation for choosing <see cref="EstimatorOptions"/>.</summary>
public static class EstimatorEvaluation
{
    /// <summary>The grid Flare's defaults were chosen from (docs/estimator.md).</summary>
    public static IReadOnlyList<EstimatorOptions> DefaultGrid { get; } =
    [
        .. from k in new[] { 5, 10, 20, 40 }
           from m in new[] { 0.0, 0.01, 0.03, 0.1, 0.3, 1, 2 }
           from p in new[] { 1.0, 4, 8, 16, 32 }
           select new EstimatorOptions { K = k, Shrinkage = m, SimilarityPower = p },
        .. from k in new[] { 5, 10, 20, 40 }
           select new EstimatorOptions { Aggregation = NeighbourAggregation.PlainMean, K = k, Shrinkage = 0, SimilarityPower = 0 },
    ];

    /// <summary>Estimates every query with each of <paramref name="options"/> (one search per query, at the largest
    /// k) and compares with the query's own outcomes.</summary>
    public static IReadOnlyList<EstimatorError> Evaluate(HistoryEstimator estimator, IReadOnlyList<HistoryEntry> queries, IReadOnlyList<EstimatorOptions> options)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Select(_ => new ErrorSums()).ToArray();
        var maxK = options.Max(o => o.K);
        var vector = new float[estimator.Embedder.Dimensions];
        foreach (var query in queries)
        {
            estimator.Embedder.Embed(query.Prompt, vector);
            var neighbours = estimator.Index.Search(vector, maxK);
            for (var i = 0; i < options.Count; i++)
            {
                errors[i].Add(estimator.Aggregate(neighbours, 0, options[i]), query);
            }
        }

        return [.. options.Select((o, i) => errors[i].Result(o, estimator.Models))];
    }

    /// <summary>Recall@k of <paramref name="estimator"/>'s index against exact search over the same vectors.</summary>
    public static IndexRecall Recall(HistoryEstimator estimator, IReadOnlyList<string> queries, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(queries);
        var exact = new ExactIndex(estimator.Index.Dimensions);
        for (var id = 0; id < estimator.Index.Count; id++)
        {
            exact.Add(estimator.Index.Vector(id));
        }

        return Recall(estimator.Embedder, estimator.Index, exact, queries, k);
    }

    /// <summary>Recall@k of <paramref name="approximate"/> against <paramref name="exact"/> (the same vectors, same ids).</summary>
    public static IndexRecall Recall(Embeddings.IPromptEmbedder embedder, IVectorIndex approximate, IVectorIndex exact, IReadOnlyList<string> queries, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(approximate);
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(queries);
        var vector = new float[embedder.Dimensions];
        double sum = 0;
        var measured = 0;
        foreach (var query in queries)
        {
            embedder.Embed(query, vector);
            var truth = exact.Search(vector, k);
            if (truth.Length == 0)
            {
                continue;
            }

            // Ties at the k-th similarity: any of the tied vectors is a correct answer.
            var kth = truth[^1].Similarity;
            var ids = truth.Select(n => n.Id).ToHashSet();
            var hits = approximate.Search(vector, k).Count(n => ids.Contains(n.Id) || n.Similarity >= kth);
            sum += Math.Min(hits, truth.Length) / (double)truth.Length;
            measured++;
        }

        return new IndexRecall(k, measured == 0 ? 0 : sum / measured, measured);
    }

    /// <summary>K-fold cross-validation of <paramref name="grid"/> on <paramref name="rows"/>: rows are shuffled with
    /// <paramref name="seed"/> and dealt into folds; each fold is estimated from a history of the others, built by
    /// <paramref name="build"/> (so the embedder's idf is refitted per fold, as at a real start).</summary>
    public static CrossValidationResult CrossValidate(
        IReadOnlyList<HistoryEntry> rows, Func<IReadOnlyList<HistoryEntry>, HistoryEstimator> build,
        IReadOnlyList<EstimatorOptions> grid, int folds = 5, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(grid.Count, 1);
        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        var sums = grid.Select(_ => (Error: 0.0, Pairs: 0)).ToArray();
        for (var fold = 0; fold < folds; fold++)
        {
            var train = new List<HistoryEntry>();
            var held = new List<HistoryEntry>();
            for (var i = 0; i < order.Length; i++)
            {
                (i % folds == fold ? held : train).Add(rows[order[i]]);
            }

            var estimator = build(train);
            var errors = Evaluate(estimator, held, grid);
            for (var g = 0; g < grid.Count; g++)
            {
                sums[g].Error += errors[g].QualityMae * errors[g].Pairs;
                sums[g].Pairs += errors[g].Pairs;
            }
        }

        var points = grid.Select((o, g) => new CrossValidationPoint(o, sums[g].Pairs == 0 ? double.NaN : sums[g].Error / sums[g].Pairs, sums[g].Pairs))
            .OrderBy(p => p.QualityMae)
            .ToList();
        return new CrossValidationResult(points, folds, seed);
    }

    private sealed class ErrorSums
    {
        private readonly Dictionary<string, (double Abs, double Sq, int N, double Ape, int L)> _perModel = new(StringComparer.Ordinal);

        public void Add(PromptEstimate estimate, HistoryEntry truth)
        {
            foreach (var outcome in truth.Outcomes)
            {
                if (estimate.For(outcome.Model) is not { } e)
                {
                    continue; // a model the history never scored: nothing to estimate from
                }

                var s = _perModel.GetValueOrDefault(outcome.Model);
                if (outcome.Score is { } score)
                {
                    s.Abs += Math.Abs(e.Quality - score);
                    s.Sq += (e.Quality - score) * (e.Quality - score);
                    s.N++;
                }

                if (outcome.OutputTokens is >= 1 and var tokens && e.OutputTokens is { } predicted)
                {
                    s.Ape += Math.Abs(predicted - tokens) / tokens;
                    s.L++;
                }

                _perModel[outcome.Model] = s;
            }
        }

        public EstimatorError Result(EstimatorOptions options, IReadOnlyList<string> models)
        {
            var perModel = models.Where(_perModel.ContainsKey).Select(m =>
            {
                var s = _perModel[m];
                return new ModelError(m, s.N == 0 ? double.NaN : s.Abs / s.N, s.N, s.L == 0 ? null : s.Ape / s.L, s.L);
            }).ToList();
            var pairs = _perModel.Values.Sum(s => s.N);
            var lengths = _perModel.Values.Sum(s => s.L);
            return new EstimatorError(
                options,
                pairs == 0 ? double.NaN : _perModel.Values.Sum(s => s.Abs) / pairs,
                pairs == 0 ? double.NaN : Math.Sqrt(_perModel.Values.Sum(s => s.Sq) / pairs),
                pairs,
                lengths == 0 ? null : _perModel.Values.Sum(s => s.Ape) / lengths,
                perModel);
        }
    }
}
