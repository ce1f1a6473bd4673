using System.Collections.Frozen;
using System.Globalization;
using Flare.Routing.Profiles;

namespace Flare.Routing.Routing;

/// <summary>
/// FLARE's weighted multi-objective routing (ROUTING.md §2.1): <c>argmax_i w_q·q̂_i − w_c·ĉ_i/C − w_l·ℓ̂_i/L</c> through
/// <see cref="ScoringCore"/>, with the cost and latency scales C and L fixed by the plan so the weights are unitless.
/// ℓ̂ is end-to-end latency, or TTFT when the plan says so. Ties go to the lower index (the lower deployment id).
/// </summary>
internal sealed class FlarePolicy(RoutingPlan plan, LatencyMetric latency) : IRoutingPolicy
{
    public const string PolicyName = "flare";

    public string Name => PolicyName;

    public bool NeedsEstimates => true;

    public RoutingPlan Plan => plan;

    public string Formula => string.Create(CultureInfo.InvariantCulture,
        $"{plan.QualityWeight:0.###}·q̂ − {plan.CostWeight:0.###}·ĉ / ${plan.CostScaleUsd:0.######} − {plan.LatencyWeight:0.###}·{(latency == LatencyMetric.Ttft ? "TTFT" : "ℓ̂")} / {plan.LatencyScaleMs:0.#} ms");

    public CandidateScore? ScoreOf(in RoutingRequest request, in Candidate candidate)
    {
        var e = candidate.Estimate;
        var latencyMs = latency == LatencyMetric.Ttft ? e.TtftMs : e.LatencyMs;
        var quality = plan.QualityWeight * e.Quality;
        var cost = plan.CostWeight * e.CostUsd / plan.CostScaleUsd;
        var wait = plan.LatencyWeight * latencyMs / plan.LatencyScaleMs;
        return new CandidateScore(quality - cost - wait, quality, cost, wait, 0);
    }

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates)
    {
        var best = RoutingDecision.NoCandidate;
        var bestScore = double.NegativeInfinity;
        var ttft = latency == LatencyMetric.Ttft;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].IsFull)
            {
                continue;
            }

            var e = candidates[i].Estimate;
            var score = ScoringCore.Score(ttft ? e with { LatencyMs = e.TtftMs } : e, plan, 0, 0);
            if (score > bestScore)
            {
                (best, bestScore) = (i, score);
            }
        }

        return best;
    }
}

/// <summary>
/// RouterWise online (ROUTING.md §2.2): <c>argmax_i (q̂_i − α_i)</c> with each deployment's capacity price α_i from the
/// plan. A deployment the plan has no price for (added after it was computed) has α = 0. Ties go to the lower index.
/// </summary>
internal sealed class RouterWisePolicy(IReadOnlyDictionary<string, double> alpha) : IRoutingPolicy
{
    public const string PolicyName = "routerwise";

    private static readonly RoutingPlan Quality = RoutingPlan.BestQuality();
    private readonly FrozenDictionary<string, double> _alpha = alpha.ToFrozenDictionary(StringComparer.Ordinal);

    public string Name => PolicyName;

    public bool NeedsEstimates => true;

    public string Formula => "q̂ − α_i";

    public CandidateScore? ScoreOf(in RoutingRequest request, in Candidate candidate)
    {
        var a = _alpha.TryGetValue(candidate.Target.Name, out var price) ? price : 0;
        var q = candidate.Estimate.Quality;
        return new CandidateScore(q - a, q, 0, 0, a, Alpha: a);
    }

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates)
    {
        var best = RoutingDecision.NoCandidate;
        var bestScore = double.NegativeInfinity;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].IsFull)
            {
                continue;
            }

            var score = ScoringCore.Score(candidates[i].Estimate, Quality, 0, _alpha.TryGetValue(candidates[i].Target.Name, out var a) ? a : 0);
            if (score > bestScore)
            {
                (best, bestScore) = (i, score);
            }
        }

        return best;
    }
}
