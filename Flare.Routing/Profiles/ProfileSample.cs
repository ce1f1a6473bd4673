namespace Flare.Routing.Profiles;

/// <summary>
/// One measured request of a profiling run (ROUTING.md §3), or one imported row standing for such a request.
/// Latencies are in milliseconds; a latency that was not measured is null.
/// </summary>
/// <param name="InputTokens">Prompt tokens (from <c>usage.prompt_tokens</c> when the server reports them).</param>
/// <param name="OutputTokens">Generated tokens (from <c>usage.completion_tokens</c>).</param>
/// <param name="Concurrency">The load the request met: requests in flight at the deployment, this one
/// included (≥ 1). A concurrency sweep records its level; a rate sweep records the in-flight count seen at
/// send time.</param>
/// <param name="TtftMs">Time to first token: from sending the request to the first content token, in ms.</param>
/// <param name="TpotMs">Time per output token after the first: (e2e − TTFT) / (output tokens − 1), in ms.</param>
/// <param name="E2eMs">End-to-end latency: from sending the request to the last byte, in ms.</param>
/// <param name="IsError">True for a failed or timed-out request. Kept as a sample (it counts against goodput
/// and in the error rate) but never used to fit a curve.</param>
/// <param name="RequestRatePerSecond">The arrival rate of the sweep step that sent the request, in requests
/// per second, when the sweep was rate-driven; null for a concurrency sweep.</param>
public sealed record ProfileSample(
    int InputTokens,
    int OutputTokens,
    double Concurrency,
    double? TtftMs,
    double? TpotMs,
    double? E2eMs,
    bool IsError = false,
    double? RequestRatePerSecond = null)
{
    /// <summary>TPOT as ROUTING.md §3 defines it, from e2e and TTFT; null when either is missing or there is
    /// only one output token.</summary>
    public static double? DeriveTpotMs(double? ttftMs, double? e2eMs, int outputTokens) =>
        ttftMs is { } t && e2eMs is { } e && outputTokens > 1 ? (e - t) / (outputTokens - 1) : null;

    /// <summary>e2e = TTFT + (output tokens − 1) · TPOT; null when either is missing.</summary>
    public static double? DeriveE2eMs(double? ttftMs, double? tpotMs, int outputTokens) =>
        ttftMs is { } t && tpotMs is { } p && outputTokens >= 1 ? t + (outputTokens - 1) * p : null;
}
