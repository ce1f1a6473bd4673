using System.Buffers;
using System.ComponentModel.DataAnnotations;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;

namespace Flare.Routing.Estimation;

/// <summary>
/// Quality and output-length estimates from the routing history (ROUTING.md §4): embed the prompt, find its
/// nearest neighbours among the history's prompts, aggregate their outcomes per model.
/// </summary>
/// <remarks>
/// <para>The history is held in memory: <see cref="Build"/> at start from all rows, <see cref="Add"/> for each
/// imported or feedback row afterwards (an estimate made after <see cref="Add"/> returns sees the row). Rows with
/// the same prompt text are one point: a second row's outcomes join the first's, and a model graded twice on a
/// prompt counts with its mean.</para>
/// <para>Concurrency: one writer at a time (adds are serialised); <see cref="Estimate(string, EstimatorOptions?)"/>
/// runs on any thread without locks. A point's outcomes and the priors are immutable and replaced whole.</para>
/// <para>Aggregation for model i over the k neighbours n that have an outcome for i, with similarity weights
/// <c>w_n = max(0, cos_n)^p</c> (<see cref="EstimatorOptions"/>):
/// quality <c>q̂_i = (Σ w_n·s_ni + m·prior_i) / (Σ w_n + m)</c> (a Bayesian mean: the prior counts as m
/// neighbours of similarity 1); output tokens the same in log space toward the model's geometric-mean length
/// (lengths are skewed, and a geometric mean has the lower relative error); cost the same toward the model's mean
/// cost. PORT's plain mean is the unweighted mean of the neighbours' outcomes, the prior only when none has one.</para>
/// </remarks>
public sealed class HistoryEstimator
{
    private readonly Lock _write = new();
    private readonly Dictionary<string, int> _pointByPrompt = new(StringComparer.Ordinal);
    private Point?[] _points = new Point?[1024];
    private Catalog _catalog = Catalog.Empty;

    /// <summary>An empty history; fill it with <see cref="Add"/>.</summary>
    /// <param name="embedder">Embeds prompts.</param>
    /// <param name="tokenCounter">Counts input tokens (and the caller's output tokens).</param>
    /// <param name="index">The vector index (default: an <see cref="HnswIndex"/> with default options).</param>
    /// <param name="options">The default aggregation (default <see cref="EstimatorOptions.Default"/>).</param>
    public HistoryEstimator(IPromptEmbedder embedder, ITokenCounter tokenCounter, IVectorIndex? index = null, EstimatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(tokenCounter);
        Embedder = embedder;
        TokenCounter = tokenCounter;
        Index = index ?? new HnswIndex(embedder.Dimensions);
        if (Index.Dimensions != embedder.Dimensions || Index.Count != 0)
        {
            throw new ArgumentException($"The index must be empty and of {embedder.Dimensions} dimensions.", nameof(index));
        }

        Options = Validate(options ?? EstimatorOptions.Default);
    }

    /// <summary>The embedder.</summary>
    public IPromptEmbedder Embedder { get; }

    /// <summary>The token counter.</summary>
    public ITokenCounter TokenCounter { get; }

    /// <summary>The vector index; id n is the n-th distinct prompt.</summary>
    public IVectorIndex Index { get; }

    /// <summary>The aggregation used when none is passed.</summary>
    public EstimatorOptions Options { get; }

    /// <summary>Distinct prompts in the history.</summary>
    public int Count => Index.Count;

    /// <summary>Models seen so far, in order of first appearance.</summary>
    public IReadOnlyList<string> Models => Volatile.Read(ref _catalog).Names;

    /// <summary>A history of <paramref name="entries"/>: the start-up rebuild (embedding in batches).</summary>
    public static HistoryEstimator Build(
        IEnumerable<HistoryEntry> entries, IPromptEmbedder embedder, ITokenCounter tokenCounter,
        IVectorIndex? index = null, EstimatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var estimator = new HistoryEstimator(embedder, tokenCounter, index, options);
        estimator.AddRange(entries);
        return estimator;
    }

    /// <summary>Adds one row (an import or a feedback row); estimates made after this returns see it.</summary>
    /// <returns>The id of the prompt's point in <see cref="Index"/>.</returns>
    public int Add(HistoryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return AddEmbedded(entry, null);
    }

    /// <summary>Adds many rows, embedding the new prompts in batches.</summary>
    public void AddRange(IEnumerable<HistoryEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        const int batchSize = 256;
        var batch = new List<HistoryEntry>(batchSize);
        foreach (var entry in entries)
        {
            batch.Add(entry);
            if (batch.Count == batchSize)
            {
                Flush(batch);
            }
        }

        Flush(batch);
    }

    /// <summary>Estimates every model's outcome on <paramref name="prompt"/>.</summary>
    public PromptEstimate Estimate(string prompt, EstimatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options = Checked(options);
        var inputTokens = TokenCounter.Count(prompt);
        var buffer = ArrayPool<float>.Shared.Rent(Embedder.Dimensions);
        try
        {
            var vector = buffer.AsSpan(0, Embedder.Dimensions);
            Embedder.Embed(prompt, vector);
            return Aggregate(Index.Search(vector, options.K), inputTokens, options);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Aggregates given neighbours (ids of <see cref="Index"/>, most similar first; the first
    /// <see cref="EstimatorOptions.K"/> are used). For evaluations that search once and aggregate many ways.</summary>
    public PromptEstimate Aggregate(IReadOnlyList<Neighbour> neighbours, int inputTokens, EstimatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(neighbours);
        options = Checked(options);
        var catalog = Volatile.Read(ref _catalog);
        var points = Volatile.Read(ref _points);
        var models = catalog.Names.Count;
        var plain = options.Aggregation == NeighbourAggregation.PlainMean;
        Span<Accumulator> sums = models <= 64 ? stackalloc Accumulator[models] : new Accumulator[models];
        sums.Clear();
        var used = Math.Min(options.K, neighbours.Count);
        var found = 0;
        for (var i = 0; i < used; i++)
        {
            var neighbour = neighbours[i];
            if ((uint)neighbour.Id >= (uint)points.Length || Volatile.Read(ref points[neighbour.Id]) is not { } point)
            {
                continue; // added to the index by a concurrent writer, outcomes not yet published
            }

            found++;
            var similarity = Math.Max(0, (double)neighbour.Similarity);
            var weight = plain ? 1 : options.SimilarityPower == 1 ? similarity : Math.Pow(similarity, options.SimilarityPower);
            foreach (var outcome in point.Outcomes)
            {
                if (outcome.Model < models)
                {
                    sums[outcome.Model].Add(outcome, weight, similarity);
                }
            }
        }

        var m = plain ? 0 : options.Shrinkage;
        var estimates = new List<ModelEstimate>(models);
        for (var model = 0; model < models; model++)
        {
            var prior = catalog.Priors[model];
            if (prior.ScoreCount == 0)
            {
                continue;
            }

            ref var s = ref sums[model];
            var quality = Blend(s.ScoreWeighted, s.ScoreWeight, prior.MeanScore, m);
            double? tokens = prior.TokenCount == 0 ? null : Math.Exp(Blend(s.LogTokensWeighted, s.TokensWeight, prior.MeanLogTokens, m));
            if (plain && s.TokensWeight > 0)
            {
                tokens = s.TokensWeighted / s.TokensWeight; // PORT: the arithmetic mean
            }

            double? cost = prior.CostCount == 0 ? null : Blend(s.CostWeighted, s.CostWeight, prior.MeanCost, m);
            var dataWeight = plain ? s.ScoreNeighbours / (double)options.K : s.ScoreWeight + m > 0 ? s.ScoreWeight / (s.ScoreWeight + m) : 0;
            var confidence = new EstimateConfidence(
                s.ScoreNeighbours, s.ScoreNeighbours == 0 ? 0 : s.SimilaritySum / s.ScoreNeighbours, dataWeight);
            estimates.Add(new ModelEstimate(catalog.Names[model], quality, tokens, cost, confidence, prior.MeanScore));
        }

        return new PromptEstimate(inputTokens, estimates, found, used > 0 ? Math.Max(0, neighbours[0].Similarity) : 0);
    }

    // (Σ w·x + m·prior) / (Σ w + m); the prior alone when there is neither data nor shrinkage.
    private static double Blend(double weightedSum, double weight, double prior, double m) =>
        weight + m > 0 ? (weightedSum + (m * prior)) / (weight + m) : prior;

    // The options in force: validated unless they are this estimator's own (validated when it was made; options
    // are immutable). Validation reads attributes by reflection: ~5 µs and 2 KB of garbage a call.
    private EstimatorOptions Checked(EstimatorOptions? options) =>
        options is null || ReferenceEquals(options, Options) ? Options : Validate(options);

    private static EstimatorOptions Validate(EstimatorOptions options)
    {
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        return options;
    }

    private void Flush(List<HistoryEntry> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        // Embed outside the lock; a prompt already in the history is embedded for nothing, which is cheap.
        var vectors = Embedder.EmbedBatch(batch.ConvertAll(e => e.Prompt));
        for (var i = 0; i < batch.Count; i++)
        {
            AddEmbedded(batch[i], vectors[i]);
        }

        batch.Clear();
    }

    private int AddEmbedded(HistoryEntry entry, float[]? vector)
    {
        ArgumentNullException.ThrowIfNull(entry.Prompt, nameof(entry));
        ArgumentNullException.ThrowIfNull(entry.Outcomes, nameof(entry));
        foreach (var outcome in entry.Outcomes)
        {
            Check(outcome);
        }

        lock (_write)
        {
            var catalog = _catalog.With(entry.Outcomes);
            var outcomes = new List<PointOutcome>(entry.Outcomes.Count);
            foreach (var outcome in entry.Outcomes)
            {
                outcomes.Add(PointOutcome.From(catalog.IndexOf[outcome.Model], outcome));
            }

            if (_pointByPrompt.TryGetValue(entry.Prompt, out var id))
            {
                var merged = PointOutcome.Merge(_points[id]!.Outcomes, outcomes);
                Volatile.Write(ref _catalog, catalog);
                Volatile.Write(ref _points[id], new Point(merged));
                return id;
            }

            if (vector is null)
            {
                vector = new float[Embedder.Dimensions];
                Embedder.Embed(entry.Prompt, vector);
            }

            // Outcomes are published before the vector is searchable, so a search never finds a point without them.
            id = Index.Count;
            var points = _points;
            if (id >= points.Length)
            {
                var grown = new Point?[Math.Max(points.Length * 2, id + 1)];
                Array.Copy(points, grown, points.Length);
                points = grown;
                Volatile.Write(ref _points, grown);
            }

            Volatile.Write(ref points[id], new Point(PointOutcome.Merge([], outcomes)));
            Volatile.Write(ref _catalog, catalog);
            var added = Index.Add(vector);
            if (added != id)
            {
                throw new InvalidOperationException($"The index gave id {added} where {id} was expected; it must not be shared with another writer.");
            }

            _pointByPrompt[entry.Prompt] = id;
            return id;
        }
    }

    private static void Check(ModelOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (string.IsNullOrWhiteSpace(outcome.Model))
        {
            throw new ArgumentException("An outcome's model name is empty.", nameof(outcome));
        }

        if (outcome.Score is { } s && !(s >= 0 && s <= 1))
        {
            throw new ArgumentException($"The score {s} of {outcome.Model} is outside [0, 1].", nameof(outcome));
        }

        if (outcome.OutputTokens is < 0)
        {
            throw new ArgumentException($"The output tokens {outcome.OutputTokens} of {outcome.Model} are negative.", nameof(outcome));
        }

        if (outcome.CostUsd is { } c && !(c >= 0 && double.IsFinite(c)))
        {
            throw new ArgumentException($"The cost {c} of {outcome.Model} is not a finite amount ≥ 0.", nameof(outcome));
        }
    }

    private sealed record Point(PointOutcome[] Outcomes);

    // One model's outcomes on one prompt, as sums (a model graded twice counts with its mean).
    private readonly record struct PointOutcome(
        int Model, double ScoreSum, int ScoreCount, double TokensSum, double LogTokensSum, int TokensCount, double CostSum, int CostCount)
    {
        public static PointOutcome From(int model, ModelOutcome o) => new(
            model,
            o.Score ?? 0, o.Score is null ? 0 : 1,
            o.OutputTokens ?? 0, o.OutputTokens is { } t ? Math.Log(Math.Max(1, t)) : 0, o.OutputTokens is null ? 0 : 1,
            o.CostUsd ?? 0, o.CostUsd is null ? 0 : 1);

        public static PointOutcome[] Merge(PointOutcome[] existing, List<PointOutcome> added)
        {
            var merged = new List<PointOutcome>(existing);
            foreach (var a in added)
            {
                var at = merged.FindIndex(o => o.Model == a.Model);
                if (at < 0)
                {
                    merged.Add(a);
                }
                else
                {
                    var o = merged[at];
                    merged[at] = new PointOutcome(
                        o.Model, o.ScoreSum + a.ScoreSum, o.ScoreCount + a.ScoreCount, o.TokensSum + a.TokensSum,
                        o.LogTokensSum + a.LogTokensSum, o.TokensCount + a.TokensCount, o.CostSum + a.CostSum, o.CostCount + a.CostCount);
                }
            }

            return [.. merged];
        }
    }

    private struct Accumulator
    {
        public double ScoreWeighted;
        public double ScoreWeight;
        public int ScoreNeighbours;
        public double SimilaritySum;
        public double TokensWeighted;
        public double LogTokensWeighted;
        public double TokensWeight;
        public double CostWeighted;
        public double CostWeight;

        public void Add(in PointOutcome o, double weight, double similarity)
        {
            if (o.ScoreCount > 0)
            {
                ScoreWeighted += weight * o.ScoreSum / o.ScoreCount;
                ScoreWeight += weight;
                ScoreNeighbours++;
                SimilaritySum += similarity;
            }

            if (o.TokensCount > 0)
            {
                TokensWeighted += weight * o.TokensSum / o.TokensCount;
                LogTokensWeighted += weight * o.LogTokensSum / o.TokensCount;
                TokensWeight += weight;
            }

            if (o.CostCount > 0)
            {
                CostWeighted += weight * o.CostSum / o.CostCount;
                CostWeight += weight;
            }
        }
    }

    // A model's outcomes over the whole history: the prior every estimate is shrunk toward.
    private readonly record struct Prior(double ScoreSum, int ScoreCount, double LogTokensSum, int TokenCount, double CostSum, int CostCount)
    {
        public double MeanScore => ScoreCount == 0 ? 0 : ScoreSum / ScoreCount;

        public double MeanLogTokens => TokenCount == 0 ? 0 : LogTokensSum / TokenCount;

        public double MeanCost => CostCount == 0 ? 0 : CostSum / CostCount;
    }

    // Model names and priors, immutable; replaced whole by the writer.
    private sealed class Catalog
    {
        public static readonly Catalog Empty = new([], new Dictionary<string, int>(StringComparer.Ordinal), []);

        private Catalog(IReadOnlyList<string> names, Dictionary<string, int> indexOf, Prior[] priors)
        {
            Names = names;
            IndexOf = indexOf;
            Priors = priors;
        }

        public IReadOnlyList<string> Names { get; }

        public Dictionary<string, int> IndexOf { get; }

        public Prior[] Priors { get; }

        public Catalog With(IReadOnlyList<ModelOutcome> outcomes)
        {
            var names = Names;
            var indexOf = IndexOf;
            foreach (var o in outcomes)
            {
                if (!indexOf.ContainsKey(o.Model))
                {
                    if (ReferenceEquals(indexOf, IndexOf))
                    {
                        indexOf = new Dictionary<string, int>(IndexOf, StringComparer.Ordinal);
                        names = [.. Names];
                    }

                    indexOf[o.Model] = names.Count;
                    names = [.. names, o.Model];
                }
            }

            var priors = new Prior[names.Count];
            Array.Copy(Priors, priors, Priors.Length);
            foreach (var o in outcomes)
            {
                var i = indexOf[o.Model];
                var p = priors[i];
                priors[i] = new Prior(
                    p.ScoreSum + (o.Score ?? 0), p.ScoreCount + (o.Score is null ? 0 : 1),
                    p.LogTokensSum + (o.OutputTokens is { } t ? Math.Log(Math.Max(1, t)) : 0), p.TokenCount + (o.OutputTokens is null ? 0 : 1),
                    p.CostSum + (o.CostUsd ?? 0), p.CostCount + (o.CostUsd is null ? 0 : 1));
            }

            return new Catalog(names, indexOf, priors);
        }
    }
}
