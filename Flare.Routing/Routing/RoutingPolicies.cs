using System.Collections.Frozen;
using Flare.Routing.Optimization;
using Flare.Routing.Profiles;

namespace Flare.Routing.Routing;

/// <summary>
/// The policies a routing plan can name, and how a plan's parameters and prices become the <see cref="IRoutingPolicy"/>
/// the request path calls.
/// </summary>
public static class RoutingPolicies
{
    public const string Flare = FlarePolicy.PolicyName;
    public const string RouterWise = RouterWisePolicy.PolicyName;
    public const string Port = PortPolicy.PolicyName;
    public const string BestQuality = BestQualityPolicy.PolicyName;
    public const string Cheapest = CheapestPolicy.PolicyName;
    public const string Threshold = ThresholdPolicy.PolicyName;
    public const string Fixed = FixedPolicy.PolicyName;
    public const string Random = RandomPolicy.PolicyName;
    public const string RoundRobin = RoundRobinPolicy.PolicyName;
    public const string LeastOutstanding = LeastOutstandingPolicy.PolicyName;

    /// <summary>Every policy a plan can name, the live ones first.</summary>
    public static IReadOnlyList<string> PlanPolicies { get; } =
        [Flare, RouterWise, Port, BestQuality, Cheapest, Threshold, Fixed, Random, RoundRobin, LeastOutstanding];

    /// <summary>Policies that need a computed plan to route at all: prices (routerwise, port), a model (fixed), two
    /// models (threshold), or the normalising scales (flare). The rest route on built-in defaults without one.</summary>
    public static bool NeedsPlan(string policy) => policy is Flare or RouterWise or Port or Fixed or Threshold;

    public static bool IsPlanPolicy(string policy) => PlanPolicies.Contains(policy, StringComparer.Ordinal);

    /// <summary>What each policy does, in a sentence, for the UI and the API.</summary>
    public static string Describe(string policy) => policy switch
    {
        Flare => "FLARE: argmax w_q·q̂ − w_c·ĉ/C − w_l·ℓ̂/L over normalised quality, cost and latency.",
        RouterWise => "RouterWise: argmax q̂ − α_i, with capacity prices α that keep the mean latency under the SLO at the planned arrival rate.",
        Port => "PORT: argmax α·q̂ − γ_i·ĉ, with budget prices γ learned on a workload sample and per-deployment budgets per period.",
        BestQuality => "The highest estimated quality q̂ (ties: cheaper).",
        Cheapest => "The lowest estimated cost ĉ (ties: better).",
        Threshold => "RouteLLM-style: the strong model when q̂_strong − q̂_weak > t, else the weak one.",
        Fixed => "Every request to one model (least outstanding among its deployments).",
        Random => "Uniformly at random from a seeded stream.",
        RoundRobin => "Each deployment in turn.",
        LeastOutstanding => "Least requests in flight relative to each deployment's max concurrency (no estimates).",
        _ => "",
    };

    /// <summary>The policy a plan describes.</summary>
    /// <param name="periodOrigin">When the plan became live: PORT counts its budget periods from it.</param>
    /// <param name="ledger">Where hosts sharing the fleet pool PORT's spending (null: this host alone).</param>
    /// <param name="ledgerScope">Names the plan's counters in <paramref name="ledger"/>; the same on every host for one activation.</param>
    public static IRoutingPolicy Create(
        string policy, PlanParameters parameters, PlanPrices prices, DateTime periodOrigin, ISharedLedger? ledger = null, string ledgerScope = "")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(prices);
        return policy switch
        {
            Flare => new FlarePolicy(
                new RoutingPlan(0, Flare, parameters.QualityWeight ?? 1, parameters.CostWeight ?? 0, parameters.LatencyWeight ?? 0,
                    Positive(prices.CostScaleUsd, 1), Positive(prices.LatencyScaleMs, 1000), prices.Gamma, prices.Alpha),
                parameters.LatencyMetric ?? LatencyMetric.E2e),
            RouterWise => new RouterWisePolicy(prices.Alpha),
            Port => new PortPolicy(prices.Gamma, prices.BudgetsUsd, parameters.QualityScale ?? PortDefaults.QualityScale,
                parameters.OnExhausted ?? ExhaustedBudget.Fallback, periodOrigin, TimeSpan.FromMinutes(parameters.BudgetPeriodMinutes ?? PortDefaults.PeriodMinutes),
                ledger, ledgerScope),
            BestQuality => new BestQualityPolicy(),
            Cheapest => new CheapestPolicy(),
            Threshold => new ThresholdPolicy(
                parameters.StrongModel ?? prices.StrongModel ?? throw new ArgumentException("The threshold plan has no strong model."),
                parameters.WeakModel ?? prices.WeakModel ?? throw new ArgumentException("The threshold plan has no weak model."),
                parameters.Threshold ?? ThresholdDefault),
            Fixed => new FixedPolicy(parameters.Model ?? throw new ArgumentException("The fixed plan names no model.")),
            Random => new RandomPolicy(parameters.Seed ?? 0),
            RoundRobin => new RoundRobinPolicy(),
            LeastOutstanding => new LeastOutstandingPolicy(),
            _ => throw new ArgumentException($"Unknown policy '{policy}'.", nameof(policy)),
        };
    }

    /// <summary>The policy with its built-in defaults, for a policy used by name with no plan; null for those that
    /// <see cref="NeedsPlan"/>.</summary>
    public static IRoutingPolicy? Builtin(string policy) =>
        NeedsPlan(policy) || !IsPlanPolicy(policy) ? null : Create(policy, new PlanParameters(), PlanPrices.Empty, DateTime.UnixEpoch);

    /// <summary>threshold's default t.</summary>
    public const double ThresholdDefault = 0.1;

    private static double Positive(double? value, double fallback) => value is > 0 && double.IsFinite(value.Value) ? value.Value : fallback;
}

/// <summary>PORT's defaults for a live plan.</summary>
public static class PortDefaults
{
    /// <summary>α, quality in USD per request (the paper's 1e-4).</summary>
    public const double QualityScale = 1e-4;

    /// <summary>The budget period, minutes.</summary>
    public const double PeriodMinutes = 60;
}

/// <summary>
/// A plan as the request path uses it: its version and the policy built from it. Immutable; replaced whole.
/// </summary>
/// <param name="version">The plan's version (its id); 0 for a built-in default.</param>
/// <param name="router">The policy, with the plan's prices and (for PORT) its budget counters.</param>
/// <param name="activationId">The activation that made it live; 0 for a plan that is not live.</param>
public sealed class ActivePlan(long version, IRoutingPolicy router, long activationId = 0)
{
    public long Version { get; } = version;

    public string Policy => Router.Name;

    public IRoutingPolicy Router { get; } = router;

    public long ActivationId { get; } = activationId;

    /// <summary>True for a policy's built-in defaults (no stored plan).</summary>
    public bool IsBuiltin => Version == 0;

    /// <summary>The <c>x-flare-plan</c> header: the version, or <c>default</c>.</summary>
    public string Header { get; } = version == 0 ? "default" : version.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Every plan the request path can route by, immutable and swapped whole (one volatile write): the live plan, which the
/// router names (<c>flare</c>) use, and one plan per policy name for clients that name a policy as their <c>model</c> —
/// the live plan when it is that policy's, else the newest ready plan of that policy, else the policy's built-in defaults
/// (none for policies that need a plan).
/// </summary>
public sealed class PlanBook
{
    private readonly FrozenDictionary<string, ActivePlan> _byPolicy;

    public PlanBook(ActivePlan live, IEnumerable<ActivePlan> byPolicy)
    {
        Live = live;
        _byPolicy = byPolicy.ToFrozenDictionary(p => p.Policy, StringComparer.Ordinal);
    }

    /// <summary>No plans: the live plan is least outstanding, as before plans existed; policies that need no plan run on
    /// their defaults.</summary>
    public static PlanBook Default { get; } = new(
        new ActivePlan(0, new LeastOutstandingPolicy()),
        RoutingPolicies.PlanPolicies.Select(RoutingPolicies.Builtin).OfType<IRoutingPolicy>().Select(p => new ActivePlan(0, p)));

    /// <summary>The plan the router names route by.</summary>
    public ActivePlan Live { get; }

    /// <summary>The plan a request naming <paramref name="policy"/> routes by; null when the name is not a policy's, or the
    /// policy needs a plan and has none.</summary>
    public ActivePlan? ForPolicy(string policy) => _byPolicy.GetValueOrDefault(policy);

    /// <summary>The plans by policy.</summary>
    public IReadOnlyCollection<ActivePlan> ByPolicy => _byPolicy.Values;
}
