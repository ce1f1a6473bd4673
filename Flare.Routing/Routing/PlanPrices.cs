using System.Text.Json;

namespace Flare.Routing.Routing;

/// <summary>
/// The optimizer's side of a routing plan (ROUTING.md §1): the prices and resolved settings a policy routes by, computed
/// off the request path. Prices are keyed by deployment name; a policy without prices has none set.
/// </summary>
public sealed record PlanPrices
{
    private static readonly IReadOnlyDictionary<string, double> None = new Dictionary<string, double>();

    /// <summary>routerwise: α_i, each deployment's capacity price in quality units.</summary>
    public IReadOnlyDictionary<string, double> Alpha { get; init; } = None;

    /// <summary>routerwise: β, the multiplier of the latency constraint at which the SLO is met.</summary>
    public double? Beta { get; init; }

    /// <summary>port: γ_i, each deployment's budget price.</summary>
    public IReadOnlyDictionary<string, double> Gamma { get; init; } = None;

    /// <summary>port: B_i, each deployment's budget per period, USD.</summary>
    public IReadOnlyDictionary<string, double> BudgetsUsd { get; init; } = None;

    /// <summary>port: ε, the workload sample's share of a period's requests, which the dual LP weighs the budgets by.</summary>
    public double? Epsilon { get; init; }

    /// <summary>flare: C, the cost that normalises ĉ (the sample's mean cost per request over deployments), USD.</summary>
    public double? CostScaleUsd { get; init; }

    /// <summary>flare: L, the latency that normalises ℓ̂ (the sample's mean over deployments), ms.</summary>
    public double? LatencyScaleMs { get; init; }

    /// <summary>threshold: the strong model, as given or resolved on the sample.</summary>
    public string? StrongModel { get; init; }

    /// <summary>threshold: the weak model, as given or resolved on the sample.</summary>
    public string? WeakModel { get; init; }

    /// <summary>No prices (the baselines).</summary>
    public static PlanPrices Empty { get; } = new();

    /// <summary>Reads stored prices; an empty or blank text is no prices.</summary>
    public static PlanPrices Parse(string? json) =>
        string.IsNullOrWhiteSpace(json) ? Empty : JsonSerializer.Deserialize<PlanPrices>(json, PlanParameters.Json) ?? Empty;

    /// <summary>The stored form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, PlanParameters.Json);
}

/// <summary>
/// What a plan is predicted to give on its workload sample (ROUTING.md §5), from routing the sample through the same
/// policy code the request path runs. Latency is at light load (one request in flight per deployment) unless
/// <see cref="SloLatencyMs"/> says otherwise.
/// </summary>
/// <param name="MeanQuality">Mean q̂ of the chosen deployments over served requests.</param>
/// <param name="MeanLatencyMs">Mean predicted e2e of served requests, ms.</param>
/// <param name="P95LatencyMs">95th percentile (nearest rank) of predicted e2e, ms.</param>
/// <param name="CostPer1kUsd">Predicted cost of 1,000 served requests, USD.</param>
/// <param name="TrafficShare">Fraction of the sample each deployment gets, by name.</param>
/// <param name="DroppedShare">Fraction refused (PORT's drop, or no deployment with room).</param>
/// <param name="SampleSize">Prompts in the sample.</param>
/// <param name="SampleSource">Where the sample came from, in words.</param>
/// <param name="SloLatencyMs">routerwise: mean of the SLO's latency at the planned arrival rate, from the rate-latency curves.</param>
/// <param name="Notes">What the prediction rests on that the operator should know (defaults used, unprofiled deployments).</param>
public sealed record PlanPrediction(
    double MeanQuality,
    double MeanLatencyMs,
    double P95LatencyMs,
    double CostPer1kUsd,
    IReadOnlyDictionary<string, double> TrafficShare,
    double DroppedShare,
    int SampleSize,
    string SampleSource,
    double? SloLatencyMs,
    IReadOnlyList<string> Notes)
{
    /// <summary>Reads a stored prediction; null for none.</summary>
    public static PlanPrediction? Parse(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize<PlanPrediction>(json, PlanParameters.Json);

    /// <summary>The stored form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, PlanParameters.Json);
}
