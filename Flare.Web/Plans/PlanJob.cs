using System.ComponentModel;
using Hangfire;

namespace Flare.Web.Plans;

/// <summary>
/// The Hangfire job that computes a routing plan: thin and idempotent, it takes the plan's id and leaves the work to
/// <see cref="PlanComputer"/>, which does nothing for a plan no longer computing. No automatic retries: a failed plan keeps
/// its reason and the operator creates another.
/// </summary>
public sealed class PlanJob(PlanComputer computer)
{
    [AutomaticRetry(Attempts = 0)]
    [DisplayName("Compute routing plan {0}")]
    public Task ComputeAsync(long planId, CancellationToken ct) => computer.ComputeAsync(planId, ct);
}
