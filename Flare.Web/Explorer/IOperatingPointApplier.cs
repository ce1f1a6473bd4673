using Flare.Routing.Optimization;
using Flare.Routing.Routing;

namespace Flare.Web.Explorer;

/// <summary>What the operator chose in the explorer: the point, the sliders it was solved under and why.</summary>
/// <param name="Point">The operating point: its family (FLARE weights or RouterWise prices), plan and predicted metrics.</param>
/// <param name="Settings">The arrival rate, latency metric and constraints it was solved under (a RouterWise point is
/// sized for that arrival rate; its SLO is the point's mean latency).</param>
/// <param name="Reason">The operator's words for the audit trail.</param>
public sealed record OperatingPointChoice(ExplorerPoint Point, ExplorerSettings Settings, string Reason);

/// <summary>The result of applying a point: the live plan's version, or why it was refused.</summary>
public sealed record OperatingPointApplied(bool Applied, long? PlanVersion, string Message);

/// <summary>
/// Makes an explorer point the live routing plan (with an audit entry carrying its predicted metrics). The explorer's
/// <em>Apply</em> button calls it; while nothing implements it the button stays disabled and says why.
/// </summary>
public interface IOperatingPointApplier
{
    /// <summary>Applies <paramref name="choice"/>; expected refusals are a result, not an exception.</summary>
    Task<OperatingPointApplied> ApplyAsync(OperatingPointChoice choice, CancellationToken ct = default);
}

/// <summary>The plan routing follows now, so the explorer can mark the live operating point; optional like the applier.</summary>
public interface ILiveOperatingPoint
{
    /// <summary>The live plan as the scoring core reads it, or null when routing follows no plan (least outstanding).</summary>
    RoutingPlan? LivePlan { get; }

    /// <summary>The live plan in words for the chart's legend, e.g. "plan 12 (flare)".</summary>
    string Description { get; }
}
