using System.ComponentModel.DataAnnotations;

namespace Flare.Routing.Estimation;

/// <summary>How the neighbours' outcomes become one estimate per model.</summary>
public enum NeighbourAggregation
{
    /// <summary>Flare's: similarity-weighted mean shrunk toward the model's prior,
    /// <c>q̂ = (Σ w·s + m·prior) / (Σ w + m)</c> with <c>w = max(0, cos)^p</c>.</summary>
    Shrinkage,

    /// <summary>PORT's (Wu &amp; Silwal 2025): the unweighted mean of the neighbours' outcomes.</summary>
    PlainMean,
}

/// <summary>Options of <see cref="HistoryEstimator"/>. The defaults were chosen by 5-fold cross-validation on the
/// dcrouter training split only (docs/estimator.md; <c>EstimatorEvaluation.CrossValidate</c>).</summary>
public sealed record EstimatorOptions
{
    /// <summary>The aggregation (default <see cref="NeighbourAggregation.Shrinkage"/>).</summary>
    public NeighbourAggregation Aggregation { get; init; } = NeighbourAggregation.Shrinkage;

    /// <summary>Nearest neighbours of the prompt that are averaged (default 40; PORT uses 5). With the default
    /// <see cref="SimilarityPower"/> the closest few carry most of the weight, so k mainly sets how many
    /// neighbours back the <see cref="EstimateConfidence"/>.</summary>
    [Range(1, 1000)]
    public int K { get; init; } = 40;

    /// <summary>Strength m of the pull toward the model's prior mean, in neighbours of similarity 1 (default 0):
    /// with m = 2 the prior counts like two identical prompts. Cross-validated quality MAE on dcrouter's train split
    /// was lowest at m = 0 (its scores are almost all 0 or 1, and MAE rewards sharp estimates); raise it for
    /// histories with noisier, graded scores or few rows. Ignored by <see cref="NeighbourAggregation.PlainMean"/>.</summary>
    [Range(0.0, 1_000_000.0)]
    public double Shrinkage { get; init; }

    /// <summary>Exponent p of the similarity weight <c>w = max(0, cos)^p</c> (default 32). Larger values trust the
    /// closest neighbours more: at p = 32 a neighbour at cosine 0.9 weighs 0.034, one at 0.8 weighs 0.0008.
    /// Ignored by <see cref="NeighbourAggregation.PlainMean"/>.</summary>
    [Range(0.0, 256.0)]
    public double SimilarityPower { get; init; } = 32;

    /// <summary>Flare's defaults.</summary>
    public static EstimatorOptions Default { get; } = new();

    /// <summary>PORT's plain estimator: the unweighted mean of the k = 5 nearest neighbours.</summary>
    public static EstimatorOptions Port { get; } = new() { Aggregation = NeighbourAggregation.PlainMean, K = 5, Shrinkage = 0, SimilarityPower = 0 };

    /// <summary>A short description for reports, e.g. <c>shrinkage k=40 m=0 p=32</c>.</summary>
    public override string ToString() => Aggregation == NeighbourAggregation.PlainMean
        ? $"plain-mean k={K}"
        : FormattableString.Invariant($"shrinkage k={K} m={Shrinkage} p={SimilarityPower}");
}
