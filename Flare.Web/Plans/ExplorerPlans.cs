using Flare.Data.Plans;
using Flare.Routing.Optimization;
using Flare.Routing.Routing;
using Flare.Web.Explorer;
using Flare.Web.Gateway;

namespace Flare.Web.Plans;

/// <summary>
/// Connects the Pareto explorer to routing plans: <em>Apply</em> turns the chosen point into a plan (a FLARE point keeps its
/// weights, a RouterWise point its SLO at the explorer's arrival rate, a single-deployment point becomes the fixed policy
/// for that deployment's model), computes its prices at once — an operator is waiting, and nothing here is on the request
/// path — and activates it with the point's predicted metrics in the reason; and the live plan is handed back so the chart
/// can mark it.
/// </summary>
public sealed class ExplorerPlans(PlanStore store, PlanComputer computer, PlanService plans, RoutingState routing, LivePlanPublisher publisher) : IOperatingPointApplier, ILiveOperatingPoint
{
    private (long Version, RoutingPlan? Plan, string Description) _live = (-1, null, "");

    public async Task<OperatingPointApplied> ApplyAsync(OperatingPointChoice choice, CancellationToken ct = default)
    {
        var point = choice.Point;
        var (policy, parameters) = point.Family switch
        {
            ExplorerFamily.Flare => (RoutingPolicies.Flare, new PlanParameters
            {
                QualityWeight = point.Plan.QualityWeight,
                CostWeight = point.Plan.CostWeight,
                LatencyWeight = point.Plan.LatencyWeight,
                LatencyMetric = choice.Settings.Metric,
            }),
            ExplorerFamily.RouterWise => (RoutingPolicies.RouterWise, new PlanParameters
            {
                SloMs = Math.Round(point.MeanLatencyMs, 1),
                ArrivalRatePerSecond = choice.Settings.ArrivalRatePerSecond,
                LatencyMetric = choice.Settings.Metric,
            }),
            ExplorerFamily.Fixed when routing.Snapshot.Deployments.FirstOrDefault(d => d.Name == point.FixedDeployment) is { } d =>
                (RoutingPolicies.Fixed, new PlanParameters { Model = d.ModelName }),
            _ => ((string?)null, (PlanParameters?)null),
        };
        if (policy is null)
        {
            return new OperatingPointApplied(false, null, $"'{point.Label}' cannot be routed live (the oracle knows each answer's quality in advance).");
        }

        var reason = $"{choice.Reason} — explorer point '{point.Label}': predicted quality {point.MeanQuality:F3}, " +
                     $"{choice.Settings.LatencyName} {point.Latency(choice.Settings.Statistic):F0} ms, ${point.CostPer1kUsd:F3} per 1k requests " +
                     $"at {choice.Settings.ArrivalRatePerSecond:G3} req/s";
        if (reason.Length > 1000)
        {
            reason = reason[..1000];
        }

        var created = await store.CreateAsync(policy, parameters, PlanService.UiOperator, reason, ct);
        if (!created.IsOk)
        {
            return new OperatingPointApplied(false, null, Describe(created.Message, created.Errors));
        }

        var id = created.Value!.Id;
        await computer.ComputeAsync(id, ct);
        var computed = await store.GetAsync(id, ct);
        if (computed?.Status != RoutingPlanStatus.Ready)
        {
            return new OperatingPointApplied(false, id, $"Plan {id} could not be computed: {computed?.Failure ?? "unknown reason"}");
        }

        var activated = await plans.ActivateAsync(id, PlanService.UiOperator, reason, ct);
        return activated.IsOk
            ? new OperatingPointApplied(true, id, $"Plan {id} ({policy}) is live.")
            : new OperatingPointApplied(false, id, Describe(activated.Message, activated.Errors));
    }

    private static string Describe(string? message, Flare.Routing.Registry.FieldErrors errors) =>
        errors.IsEmpty ? message ?? "The plan was refused." : string.Join(" ", errors.ToDictionary().Select(kv => $"{kv.Key}: {string.Join(" ", kv.Value)}"));

    public RoutingPlan? LivePlan => Current().Plan;

    public string Description => Current().Description;

    /// <summary>The live plan in the scoring core's terms, converted once per published version from the plan the publisher read.</summary>
    private (long Version, RoutingPlan? Plan, string Description) Current()
    {
        var live = routing.Plans.Live;
        var cached = _live;
        if (cached.Version == live.Version)
        {
            return cached;
        }

        RoutingPlan? plan = null;
        if (!live.IsBuiltin && publisher.LiveView is { } view && view.Id == live.Version)
        {
            var p = view.Parameters;
            plan = view.Policy switch
            {
                RoutingPolicies.Flare => new RoutingPlan(view.Id, view.Policy, p.QualityWeight ?? 1, p.CostWeight ?? 0, p.LatencyWeight ?? 0,
                    view.Prices.CostScaleUsd ?? 1, view.Prices.LatencyScaleMs ?? 1, new Dictionary<string, double>(), new Dictionary<string, double>()),
                RoutingPolicies.RouterWise => new RoutingPlan(view.Id, view.Policy, 1, 0, 0, 1, 1, new Dictionary<string, double>(), view.Prices.Alpha),
                _ => null,
            };
        }

        var description = live.IsBuiltin ? "no plan applied (least outstanding)" : $"plan {live.Version} ({live.Policy})";
        _live = (live.Version, plan, description);
        return _live;
    }
}
