using Flare.Data.Plans;
using Flare.Data.Registry;
using Flare.Routing.Routing;
using Flare.Web.Gateway;
using Hangfire;

namespace Flare.Web.Plans;

/// <summary>The live plan as the request path holds it, with PORT's budget counters when it has them.</summary>
/// <param name="Version">The plan's version; 0 for the built-in default.</param>
/// <param name="Policy">Its policy.</param>
/// <param name="Budgets">Each deployment's budget and spending in the current period (PORT), else empty.</param>
public sealed record LiveRouting(long Version, string Policy, IReadOnlyList<BudgetUsage> Budgets);

/// <summary>
/// What the UI and <c>/api/plans</c> do with routing plans: create one (stored computing, computed by a Hangfire job),
/// make a ready one live, roll back to the previous live plan. Activation and roll-back return after the data plane has
/// switched to the new plan.
/// </summary>
public sealed class PlanService(
    PlanStore store,
    LivePlanPublisher publisher,
    RoutingState routing,
    IBackgroundJobClient jobs,
    TimeProvider time)
{
    /// <summary>Who plan changes made in the UI are recorded as, until Flare has operator logins.</summary>
    public const string UiOperator = "operator";

    /// <summary>Who plan changes made over <c>/api</c> are recorded as, unless the <c>X-Flare-Operator</c> header names someone.</summary>
    public const string ApiOperator = "api";

    public async Task<Outcome<PlanView>> CreateAsync(string policy, PlanParameters? parameters, string by, string reason, CancellationToken ct = default)
    {
        var plan = await store.CreateAsync(policy, parameters, by, reason, ct);
        if (plan.IsOk)
        {
            Enqueue(plan.Value!.Id);
        }

        return plan;
    }

    public async Task<Outcome<PlanActivationView>> ActivateAsync(long id, string by, string reason, CancellationToken ct = default)
    {
        var activation = await store.ActivateAsync(id, by, reason, ct);
        if (activation.IsOk)
        {
            await publisher.RefreshAsync(ct);
        }

        return activation;
    }

    public async Task<Outcome<PlanActivationView>> RollbackAsync(string by, string reason, CancellationToken ct = default)
    {
        var activation = await store.RollbackAsync(by, reason, ct);
        if (activation.IsOk)
        {
            await publisher.RefreshAsync(ct);
        }

        return activation;
    }

    /// <summary>Queues the computation of a plan (also at start, for plans a restart left computing).</summary>
    public void Enqueue(long planId) => jobs.Enqueue<PlanJob>(j => j.ComputeAsync(planId, CancellationToken.None));

    /// <summary>What the request path routes the router names by right now.</summary>
    public LiveRouting Live()
    {
        var live = routing.Plans.Live;
        var budgets = live.Router is IBudgetedPolicy budgeted ? budgeted.Usage(time.GetUtcNow().UtcDateTime) : [];
        return new LiveRouting(live.Version, live.Policy, budgets);
    }
}
