using System.Text.Json;
using System.Text.Json.Serialization;
using Flare.Routing.Optimization;
using Flare.Routing.Profiles;
using Flare.Routing.Registry;

namespace Flare.Routing.Routing;

/// <summary>
/// The operator's side of an operating point (ROUTING.md §5): what a routing plan asks of its policy. One record for every
/// policy; each reads the fields it needs and <see cref="Validate"/> checks those. Unset fields take the defaults stated on
/// each; JSON names are camelCase (<c>{"costWeight": 0.5}</c>).
/// </summary>
public sealed record PlanParameters
{
    /// <summary>flare: w_q, the weight of quality (default 1).</summary>
    public double? QualityWeight { get; init; }

    /// <summary>flare: w_c, the weight of cost normalised by the fleet's mean cost per request (default 0).</summary>
    public double? CostWeight { get; init; }

    /// <summary>flare: w_l, the weight of latency normalised by the fleet's mean latency (default 0).</summary>
    public double? LatencyWeight { get; init; }

    /// <summary>flare: the latency ℓ̂ is weighed in (default <see cref="Profiles.LatencyMetric.E2e"/>); routerwise: the latency
    /// the SLO bounds (default <see cref="Profiles.LatencyMetric.Ttft"/>, RouterWise's mean TTFT).</summary>
    public LatencyMetric? LatencyMetric { get; init; }

    /// <summary>routerwise: τ, the bound on the mean latency, ms (required).</summary>
    public double? SloMs { get; init; }

    /// <summary>routerwise: λ, the total arrival rate the plan is sized for, requests per second (required).</summary>
    public double? ArrivalRatePerSecond { get; init; }

    /// <summary>port: the budget of all deployments together per budget period, USD (required).</summary>
    public double? BudgetUsd { get; init; }

    /// <summary>port: length of a budget period, minutes (default 60). Budgets refill at each period's start.</summary>
    public double? BudgetPeriodMinutes { get; init; }

    /// <summary>port: how the budget is split across deployments (default <see cref="Optimization.BudgetSplit.Weighted"/>,
    /// ∝ sqrt(mean q̂ / mean ĉ)).</summary>
    public BudgetSplit? BudgetSplit { get; init; }

    /// <summary>port: what happens when the chosen deployment's budget is spent (default
    /// <see cref="ExhaustedBudget.Fallback"/>: the next best with budget; <see cref="ExhaustedBudget.Drop"/>: 429).</summary>
    public ExhaustedBudget? OnExhausted { get; init; }

    /// <summary>port: α, the scale from quality to USD (default 1e-4, PORT's, with costs in USD per request).</summary>
    public double? QualityScale { get; init; }

    /// <summary>port: requests expected per budget period; sets ε = sample size / this (default: the request log's count
    /// over the last period, at least the sample size).</summary>
    public double? ExpectedRequests { get; init; }

    /// <summary>fixed: the registered model every request goes to (required).</summary>
    public string? Model { get; init; }

    /// <summary>threshold: t, the quality advantage above which the strong model is used (default 0.1).</summary>
    public double? Threshold { get; init; }

    /// <summary>threshold: the strong model (default: the best mean q̂ on the workload sample).</summary>
    public string? StrongModel { get; init; }

    /// <summary>threshold: the weak model (default: the cheapest mean ĉ on the workload sample).</summary>
    public string? WeakModel { get; init; }

    /// <summary>random: the seed of its stream (default 0).</summary>
    public int? Seed { get; init; }

    /// <summary>Prompts of the routing history the plan is computed and predicted on (default 500).</summary>
    public int? SampleSize { get; init; }

    /// <summary>Default <see cref="SampleSize"/>.</summary>
    public const int DefaultSampleSize = 500;

    /// <summary>The JSON form of parameters, prices and predictions in the database: camelCase, enums by name.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Reads stored parameters; an empty or blank text is no parameters.</summary>
    public static PlanParameters Parse(string? json) =>
        string.IsNullOrWhiteSpace(json) ? new() : JsonSerializer.Deserialize<PlanParameters>(json, Json) ?? new();

    /// <summary>The stored form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// Checks the fields <paramref name="policy"/> reads. Errors are keyed <c>policy</c> or <c>parameters.fieldName</c>.
    /// Whether named models exist is the caller's to check against the registry.
    /// </summary>
    public FieldErrors Validate(string policy)
    {
        var errors = new FieldErrors();
        if (!RoutingPolicies.IsPlanPolicy(policy))
        {
            errors.Add("policy", $"Unknown policy '{policy}'. Use one of: {string.Join(", ", RoutingPolicies.PlanPolicies)}.");
            return errors;
        }

        if (SampleSize is < 1 or > 20_000)
        {
            errors.Add("parameters.sampleSize", "The sample size must be between 1 and 20,000 prompts.");
        }

        switch (policy)
        {
            case FlarePolicy.PolicyName:
                NonNegative(errors, "qualityWeight", QualityWeight);
                NonNegative(errors, "costWeight", CostWeight);
                NonNegative(errors, "latencyWeight", LatencyWeight);
                if ((QualityWeight ?? 1) + (CostWeight ?? 0) + (LatencyWeight ?? 0) <= 0)
                {
                    errors.Add("parameters.qualityWeight", "At least one weight must be above 0.");
                }

                break;
            case RouterWisePolicy.PolicyName:
                Positive(errors, "sloMs", SloMs, required: true, "The SLO (mean latency, ms) is required and must be above 0.");
                Positive(errors, "arrivalRatePerSecond", ArrivalRatePerSecond, required: true, "The arrival rate (requests/s) is required and must be above 0.");
                break;
            case PortPolicy.PolicyName:
                Positive(errors, "budgetUsd", BudgetUsd, required: true, "The budget per period (USD) is required and must be above 0.");
                Positive(errors, "budgetPeriodMinutes", BudgetPeriodMinutes, required: false, "The budget period must be above 0 minutes.");
                Positive(errors, "qualityScale", QualityScale, required: false, "The quality scale α must be above 0.");
                Positive(errors, "expectedRequests", ExpectedRequests, required: false, "The expected requests per period must be above 0.");
                if (BudgetPeriodMinutes > 60 * 24 * 366)
                {
                    errors.Add("parameters.budgetPeriodMinutes", "The budget period must be at most a year.");
                }

                break;
            case FixedPolicy.PolicyName:
                if (string.IsNullOrWhiteSpace(Model))
                {
                    errors.Add("parameters.model", "Name the registered model every request goes to.");
                }

                break;
            case ThresholdPolicy.PolicyName:
                if (Threshold is { } t && !(t >= -1 && t <= 1))
                {
                    errors.Add("parameters.threshold", "The threshold is a difference of qualities: between −1 and 1.");
                }

                if (StrongModel is { Length: > 0 } s && s == WeakModel)
                {
                    errors.Add("parameters.weakModel", "The weak model must differ from the strong one.");
                }

                break;
        }

        return errors;
    }

    /// <summary>The registered model names the parameters refer to (fixed's model, threshold's two), for the registry check.</summary>
    public IEnumerable<(string Field, string Model)> NamedModels(string policy)
    {
        if (policy == FixedPolicy.PolicyName && !string.IsNullOrWhiteSpace(Model))
        {
            yield return ("parameters.model", Model);
        }

        if (policy == ThresholdPolicy.PolicyName)
        {
            if (!string.IsNullOrWhiteSpace(StrongModel))
            {
                yield return ("parameters.strongModel", StrongModel);
            }

            if (!string.IsNullOrWhiteSpace(WeakModel))
            {
                yield return ("parameters.weakModel", WeakModel);
            }
        }
    }

    private static void NonNegative(FieldErrors errors, string field, double? value)
    {
        if (value is { } v && !(v >= 0 && double.IsFinite(v)))
        {
            errors.Add("parameters." + field, "A weight must be a finite number ≥ 0.");
        }
    }

    private static void Positive(FieldErrors errors, string field, double? value, bool required, string message)
    {
        if (value is null ? required : !(value > 0 && double.IsFinite(value.Value)))
        {
            errors.Add("parameters." + field, message);
        }
    }
}
