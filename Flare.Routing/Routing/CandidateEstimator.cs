using System.ComponentModel.DataAnnotations;
using Flare.Routing.Estimation;
using Flare.Routing.Profiles;

namespace Flare.Routing.Routing;

/// <summary>
/// What the estimates fall back to when the history or the profiles know nothing (ROUTING.md §1). Every fallback is
/// disclosed: <see cref="EstimateSource"/> per candidate (the <c>x-flare-estimate</c> header), and a plan's notes.
/// </summary>
public sealed record EstimationDefaults
{
    /// <summary>q̂ of a model the routing history has no scores for: a neutral 0.5 by default, so that no model is
    /// preferred for its quality before any evidence.</summary>
    [Range(0.0, 1.0)]
    public double Quality { get; init; } = 0.5;

    /// <summary>L̂_out of a model the history has no output lengths for, in tokens (default 256). Capped by the request's
    /// <c>max_tokens</c> when it sets one.</summary>
    [Range(1.0, 1_000_000.0)]
    public double OutputTokens { get; init; } = 256;

    /// <summary>TTFT of a deployment with no fitted profile, ms (default 500).</summary>
    [Range(0.0, 600_000.0)]
    public double UnprofiledTtftMs { get; init; } = 500;

    /// <summary>TPOT of a deployment with no fitted profile, ms per output token (default 20); its e2e is
    /// TTFT + (L̂_out − 1)·TPOT, the same at every load.</summary>
    [Range(0.0, 60_000.0)]
    public double UnprofiledTpotMs { get; init; } = 20;

    /// <summary>The defaults above.</summary>
    public static EstimationDefaults Default { get; } = new();
}

/// <summary>
/// Fills each candidate's <see cref="CandidateEstimate"/> for one request (ROUTING.md §1): q̂ and L̂_out of the
/// deployment's model from the prompt's history estimate; ℓ̂ from the deployment's fitted profile at its current load
/// (requests in flight + this one); ĉ from <see cref="DeploymentTarget.CostUsd"/> with L̂_out and that e2e.
/// Allocation-free: it runs once per routed request, after the prompt was estimated and before the policy decides.
/// </summary>
public static class CandidateEstimator
{
    /// <param name="candidates">Filled in place.</param>
    /// <param name="prompt">The prompt's estimates per model; null without a history estimator.</param>
    /// <param name="inputTokens">L_in: the prompt's input tokens.</param>
    /// <param name="maxOutputTokens">The request's <c>max_tokens</c>, which caps L̂_out; null when unset.</param>
    /// <param name="profiles">The fitted profiles.</param>
    /// <param name="defaults">The fallbacks.</param>
    /// <param name="extraLoad">Requests to count in flight beyond the live ones (0 on the request path).</param>
    public static void Estimate(
        Span<Candidate> candidates, PromptEstimate? prompt, int inputTokens, int? maxOutputTokens,
        ProfileSnapshot profiles, EstimationDefaults defaults, int extraLoad = 0)
    {
        for (var i = 0; i < candidates.Length; i++)
        {
            ref var c = ref candidates[i];
            c = c with { Estimate = For(c.Target, c.State.InFlight + 1 + extraLoad, prompt, inputTokens, maxOutputTokens, profiles, defaults) };
        }
    }

    /// <summary>One deployment's estimate at <paramref name="concurrency"/> requests in flight (including this one).</summary>
    public static CandidateEstimate For(
        DeploymentTarget target, int concurrency, PromptEstimate? prompt, int inputTokens, int? maxOutputTokens,
        ProfileSnapshot profiles, EstimationDefaults defaults)
    {
        var model = prompt is null ? null : Find(prompt, target.ModelName);
        var quality = model?.Quality ?? defaults.Quality;
        var source = model is null ? EstimateSource.Default
            : model.Confidence.DataWeight > 0 ? EstimateSource.History
            : EstimateSource.Prior;
        var outputTokens = model?.OutputTokens ?? defaults.OutputTokens;
        if (maxOutputTokens is { } cap)
        {
            outputTokens = Math.Min(outputTokens, cap);
        }

        outputTokens = Math.Max(1, outputTokens);
        var lout = (int)Math.Round(outputTokens);
        var lin = Math.Max(0, inputTokens);
        double ttft, e2e;
        if (profiles.For(target.Id) is { } profile)
        {
            var fit = profile.Fit.Model;
            ttft = fit.TtftMs(lin, lout, concurrency);
            e2e = fit.E2eMs(lin, lout, concurrency);
        }
        else
        {
            ttft = defaults.UnprofiledTtftMs;
            e2e = ttft + (lout - 1) * defaults.UnprofiledTpotMs;
        }

        var cost = target.CostUsd(lin, lout, e2e / 1000.0, concurrency);
        return new CandidateEstimate(quality, outputTokens, cost, e2e, ttft, source);
    }

    // PromptEstimate.For without its enumerator: an indexed scan allocates nothing.
    private static ModelEstimate? Find(PromptEstimate prompt, string model)
    {
        var models = prompt.Models;
        for (var i = 0; i < models.Count; i++)
        {
            if (models[i].Model == model)
            {
                return models[i];
            }
        }

        return null;
    }
}
