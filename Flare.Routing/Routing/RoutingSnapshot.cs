using System.Collections.Frozen;
using Flare.Routing.Registry;

namespace Flare.Routing.Routing;

/// <summary>
/// What the request path needs to know about one deployment, copied out of the registry so that no
/// request ever touches the database. Immutable: a registry edit builds a new snapshot.
/// </summary>
/// <param name="BaseUrl">OpenAI-compatible base URL without a trailing slash.</param>
/// <param name="ApiKey">Sent upstream as a bearer token; never leaves Flare otherwise.</param>
/// <param name="InputPricePerMTokUsd">USD per million input tokens (API prices), or null.</param>
/// <param name="OutputPricePerMTokUsd">USD per million output tokens (API prices), or null.</param>
/// <param name="GpuCostPerHourUsd">GPU price × GPU count for self-hosted and emulated deployments, or 0.</param>
public sealed record DeploymentTarget(
    int Id,
    string Name,
    string ModelName,
    string ServedModelName,
    DeploymentKind Kind,
    string BaseUrl,
    string? ApiKey,
    int MaxConcurrency,
    double? InputPricePerMTokUsd,
    double? OutputPricePerMTokUsd,
    double GpuCostPerHourUsd)
{
    /// <summary>
    /// Cost of one request in USD. Per-token prices when the model has them (ROUTING.md §2.1, API models:
    /// p_in·L_in + p_out·L_out); otherwise the GPU time the request held: $/s of the deployment × e2e /
    /// requests sharing it (Flare's choice for self-hosted models).
    /// </summary>
    public double CostUsd(int inputTokens, int outputTokens, double e2eSeconds, int concurrentRequests)
    {
        if (InputPricePerMTokUsd is { } pin && OutputPricePerMTokUsd is { } pout)
        {
            return (pin * inputTokens + pout * outputTokens) / 1_000_000.0;
        }

        return GpuCostPerHourUsd / 3600.0 * e2eSeconds / Math.Max(1, concurrentRequests);
    }
}

/// <summary>
/// An immutable view of the enabled deployments, indexed by model name, with a revision that increases
/// with every registry change. The data plane swaps it atomically.
/// </summary>
public sealed class RoutingSnapshot
{
    public static readonly RoutingSnapshot Empty = new(0, []);

    public RoutingSnapshot(long revision, IEnumerable<DeploymentTarget> deployments)
    {
        Revision = revision;
        Deployments = deployments.OrderBy(d => d.Id).ToArray();
        ByModel = Deployments.GroupBy(d => d.ModelName, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    public long Revision { get; }

    /// <summary>Every enabled deployment, ordered by id.</summary>
    public IReadOnlyList<DeploymentTarget> Deployments { get; }

    /// <summary>Enabled deployments by registered model name.</summary>
    public FrozenDictionary<string, DeploymentTarget[]> ByModel { get; }
}
