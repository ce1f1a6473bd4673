namespace Flare.Data.Plans;

/// <summary>Where a routing plan is in its life.</summary>
public enum RoutingPlanStatus
{
    /// <summary>Asked for; the optimizer has not finished its prices yet.</summary>
    Computing,

    /// <summary>Prices computed; can be activated.</summary>
    Ready,

    /// <summary>The optimizer could not compute it; <see cref="RoutingPlanEntity.Failure"/> says why.</summary>
    Failed,
}

/// <summary>
/// One version of the routing plan (ROUTING.md §1): a policy with its parameters and the prices the
/// optimizer computed for it, with who asked for it, when and why. Plans are never edited after they
/// are ready; applying or restoring one writes an activation, so the history of what was live is kept.
/// </summary>
public sealed class RoutingPlanEntity
{
    /// <summary>The plan's version number.</summary>
    public long Id { get; set; }

    /// <summary>flare, routerwise, port, best-quality, cheapest, random, round-robin, fixed, threshold, least-outstanding.</summary>
    public string Policy { get; set; } = "";

    /// <summary>The policy's parameters as JSON (weights, SLO, budget, fixed model, threshold, seed…).</summary>
    public string ParametersJson { get; set; } = "{}";

    /// <summary>The computed prices as JSON (γ and α per deployment name, β), empty until <see cref="RoutingPlanStatus.Ready"/>.</summary>
    public string PricesJson { get; set; } = "{}";

    /// <summary>Predicted metrics for the plan (mean quality, latency, cost per 1k requests, traffic share) as JSON, when known.</summary>
    public string? PredictedJson { get; set; }

    public RoutingPlanStatus Status { get; set; }
    public string? Failure { get; set; }

    public DateTime CreatedUtc { get; set; }

    /// <summary>The operator (or "system", "api") that asked for it.</summary>
    public string CreatedBy { get; set; } = "";

    /// <summary>Why, in the operator's words.</summary>
    public string Reason { get; set; } = "";
}

/// <summary>
/// An entry of the audit trail of live plans: plan <see cref="PlanId"/> became live at
/// <see cref="ActivatedUtc"/>. The live plan is the newest activation; a roll-back is a new activation of
/// an older plan.
/// </summary>
public sealed class RoutingPlanActivationEntity
{
    public long Id { get; set; }
    public long PlanId { get; set; }
    public DateTime ActivatedUtc { get; set; }
    public string ActivatedBy { get; set; } = "";
    public string Reason { get; set; } = "";

    /// <summary>The plan that was live before, if any (what a roll-back returns to).</summary>
    public long? PreviousPlanId { get; set; }
}
