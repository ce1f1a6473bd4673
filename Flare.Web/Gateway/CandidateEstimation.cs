using Flare.Routing.Estimation;
using Flare.Routing.Profiles;
using Flare.Routing.Routing;
using Microsoft.Extensions.Options;

namespace Flare.Web.Gateway;

/// <summary>
/// Estimates a routed request once, before its policy decides (ROUTING.md §1): the prompt through the live history
/// estimator (tokenize, embed, nearest neighbours: about a millisecond), then each candidate's q̂, L̂_out, ℓ̂ and ĉ with
/// <see cref="CandidateEstimator"/>. Without a history estimator (none registered, or an empty history) q̂ and L̂_out
/// are the configured defaults and the input tokens are counted with o200k.
/// </summary>
public sealed partial class CandidateEstimation(
    IServiceProvider services,
    IProfileSource profiles,
    IOptions<RoutingOptions> options,
    ILogger<CandidateEstimation> log)
{
    private readonly IHistoryEstimatorSource? _history = services.GetService<IHistoryEstimatorSource>();
    private readonly EstimationDefaults _defaults = options.Value.Defaults();
    private int _warned;

    /// <summary>The defaults estimates fall back to.</summary>
    public EstimationDefaults Defaults => _defaults;

    /// <summary>The live history estimator, or null when none is registered.</summary>
    public HistoryEstimator? History => _history?.Current;

    /// <summary>Fills every candidate's estimate for <paramref name="prompt"/>.</summary>
    public void Fill(Span<Candidate> candidates, string prompt, int? maxOutputTokens)
    {
        PromptEstimate? estimate = null;
        int inputTokens;
        if (_history?.Current is { } estimator)
        {
            try
            {
                estimate = estimator.Estimate(prompt);
                inputTokens = estimate.InputTokens;
            }
            catch (Exception ex)
            {
                // The request is still routed, on the defaults; one log line, not one per request.
                if (Interlocked.Exchange(ref _warned, 1) == 0)
                {
                    LogEstimateFailed(ex);
                }

                inputTokens = O200kTokenCounter.Shared.Count(prompt);
            }
        }
        else
        {
            inputTokens = O200kTokenCounter.Shared.Count(prompt);
        }

        CandidateEstimator.Estimate(candidates, estimate, inputTokens, maxOutputTokens, profiles.Current, _defaults);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The history estimator failed on a routed request; routing on the default estimates (logged once)")]
    private partial void LogEstimateFailed(Exception ex);
}
