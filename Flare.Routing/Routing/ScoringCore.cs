namespace Flare.Routing.Routing;

/// <summary>Where a candidate's quality estimate q̂ came from; sent back in <c>x-flare-estimate</c>.</summary>
public enum EstimateSource : byte
{
    /// <summary>Not estimated: the policy needs no estimates.</summary>
    None,

    /// <summary>The history knows nothing of the model: q̂ and L̂ are the configured neutral defaults.</summary>
    Default,

    /// <summary>The history has the model but no neighbour of this prompt scored it: q̂ is the model's mean (its prior).</summary>
    Prior,

    /// <summary>Neighbours of this prompt in the routing history scored the model.</summary>
    History,
}

/// <summary>Per-request predictions for one candidate (ROUTING.md §1): q̂, L̂_out, ĉ and ℓ̂.</summary>
/// <param name="Quality">q̂: expected quality in [0, 1].</param>
/// <param name="OutputTokens">L̂_out: expected output tokens.</param>
/// <param name="CostUsd">ĉ: expected cost, USD.</param>
/// <param name="LatencyMs">ℓ̂: expected latency at the deployment's current load, ms (end to end on the request path).</param>
/// <param name="TtftMs">Expected time to first token at that load, ms (0 when not estimated).</param>
/// <param name="Source">Where q̂ came from.</param>
public readonly record struct CandidateEstimate(
    double Quality, double OutputTokens, double CostUsd, double LatencyMs, double TtftMs = 0, EstimateSource Source = EstimateSource.None);

/// <summary>
/// An operating point: the operator's trade-off weights over normalised objectives and the optimizer's
/// prices, published as an immutable, versioned plan (ROUTING.md §1). Costs are normalised by
/// <see cref="CostScaleUsd"/> and latencies by <see cref="LatencyScaleMs"/> so the weights are unitless.
/// </summary>
/// <param name="Gamma">γ_i per deployment name: PORT's budget price (multiplies normalised cost).</param>
/// <param name="Alpha">α_i per deployment name: RouterWise's capacity price (in quality units).</param>
public sealed record RoutingPlan(
    long Revision,
    string Policy,
    double QualityWeight,
    double CostWeight,
    double LatencyWeight,
    double CostScaleUsd,
    double LatencyScaleMs,
    IReadOnlyDictionary<string, double> Gamma,
    IReadOnlyDictionary<string, double> Alpha)
{
    /// <summary>Best quality, ignoring cost and latency.</summary>
    public static RoutingPlan BestQuality(long revision = 0) =>
        new(revision, "best-quality", 1, 0, 0, 1, 1, new Dictionary<string, double>(), new Dictionary<string, double>());
}

/// <summary>
/// The one scoring rule every policy shares: <c>score_i = w_q·q̂_i − w_c·ĉ_i/C − w_l·ℓ̂_i/L − γ_i·ĉ_i/C − α_i</c>,
/// and the decision <c>argmax_i</c> (ties to the lower index). Allocation-free, for the request path.
/// </summary>
public static class ScoringCore
{
    public static double Score(in CandidateEstimate e, RoutingPlan plan, double gamma, double alpha) =>
        plan.QualityWeight * e.Quality
        - (plan.CostWeight + gamma) * e.CostUsd / plan.CostScaleUsd
        - plan.LatencyWeight * e.LatencyMs / plan.LatencyScaleMs
        - alpha;

    /// <summary>Index of the best-scoring candidate; −1 when there are none.</summary>
    /// <param name="gamma">γ per candidate, in the same order.</param>
    /// <param name="alpha">α per candidate, in the same order.</param>
    public static int Argmax(ReadOnlySpan<CandidateEstimate> estimates, RoutingPlan plan, ReadOnlySpan<double> gamma, ReadOnlySpan<double> alpha)
    {
        var best = -1;
        var bestScore = double.NegativeInfinity;
        for (var i = 0; i < estimates.Length; i++)
        {
            var score = Score(estimates[i], plan, gamma[i], alpha[i]);
            if (score > bestScore)
            {
                (best, bestScore) = (i, score);
            }
        }

        return best;
    }
}
