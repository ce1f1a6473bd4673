namespace Flare.Routing.Profiles;

/// <summary>
/// Cost of one request in USD (ROUTING.md §2.1, §3). Prices are per <b>million</b> tokens, as providers quote
/// them and as the registry stores them; GPU prices are per GPU-hour.
/// </summary>
public static class RequestCost
{
    /// <summary>An API deployment: <c>p_in·L_in + p_out·L_out</c>, with prices per million tokens.</summary>
    public static double ApiUsd(int inputTokens, int outputTokens, double inputUsdPerMillionTokens, double outputUsdPerMillionTokens) =>
        (inputTokens * inputUsdPerMillionTokens + outputTokens * outputUsdPerMillionTokens) / 1_000_000.0;

    /// <summary>A self-hosted deployment at a measured throughput: GPU $/hour × GPUs / (requests per hour).
    /// Infinite when the throughput is not positive.</summary>
    public static double SelfHostedUsd(double usdPerGpuHour, int gpuCount, double requestsPerSecond) =>
        requestsPerSecond > 0 ? usdPerGpuHour * gpuCount / (requestsPerSecond * 3600.0) : double.PositiveInfinity;

    /// <summary>
    /// A self-hosted deployment from its fitted curves, ROUTING.md's form: (GPU $/s of the deployment) · e2e /
    /// (concurrent requests sharing it). By Little's law this equals <see cref="SelfHostedUsd(double, int, double)"/>
    /// at the throughput c / e2e.
    /// </summary>
    public static double SelfHostedUsd(LatencyModel model, int inputTokens, int outputTokens, double concurrency, double usdPerGpuHour, int gpuCount)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = Math.Max(1, concurrency);
        return usdPerGpuHour * gpuCount / 3600.0 * (model.E2eMs(inputTokens, outputTokens, c) / 1000.0) / c;
    }
}
