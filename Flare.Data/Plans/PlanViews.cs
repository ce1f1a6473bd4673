using Flare.Routing.Routing;

namespace Flare.Data.Plans;

/// <summary>A routing plan version as the UI and <c>/api/plans</c> show it.</summary>
/// <param name="Id">The plan's version number.</param>
/// <param name="Parameters">What the operator asked for.</param>
/// <param name="Prices">What the optimizer computed (empty until ready, and for the baselines).</param>
/// <param name="Predicted">Predicted metrics on the workload sample, once ready.</param>
/// <param name="Failure">Why it could not be computed, when failed.</param>
/// <param name="CreatedBy">Who asked for it.</param>
/// <param name="Reason">Why, in their words.</param>
/// <param name="IsLive">True for the plan the newest activation made live.</param>
/// <param name="LastActivatedUtc">When it last became live, if ever.</param>
public sealed record PlanView(
    long Id,
    string Policy,
    PlanParameters Parameters,
    PlanPrices Prices,
    PlanPrediction? Predicted,
    RoutingPlanStatus Status,
    string? Failure,
    DateTime CreatedUtc,
    string CreatedBy,
    string Reason,
    bool IsLive,
    DateTime? LastActivatedUtc);

/// <summary>One entry of the audit trail: plan <paramref name="PlanId"/> became live.</summary>
/// <param name="PreviousPlanId">The plan live before it (what a roll-back returns to); null for the first activation.</param>
public sealed record PlanActivationView(
    long Id,
    long PlanId,
    string Policy,
    DateTime ActivatedUtc,
    string ActivatedBy,
    string Reason,
    long? PreviousPlanId);

/// <summary>The live plan and the activation that made it live; both null while no plan was ever activated (the built-in
/// default routes then).</summary>
public sealed record LivePlanView(PlanView? Plan, PlanActivationView? Activation);

/// <summary>Raised after every plan write, so pages update and the data plane republishes its plans.</summary>
public sealed class PlanChangeSignal
{
    public event Action? Changed;

    public void Raise() => Changed?.Invoke();
}
