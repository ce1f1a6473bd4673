using Flare.Data;
using Flare.Data.Plans;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Index;
using Flare.Routing.Profiles;
using Flare.Routing.Routing;
using Flare.Web.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Flare.Web.Plans;

/// <summary>
/// Computes a stored plan off the request path: gathers the workload sample (prompts of the routing history, estimated by
/// the live history estimator, over the enabled deployments with their fitted profiles), runs
/// <see cref="PlanComputation"/> and stores the plan ready with its prices and predictions, or failed with the reason.
/// </summary>
/// <remarks>
/// The sample: up to <see cref="PlanParameters.SampleSize"/> prompts drawn from the routing history with the plan's seed.
/// Without history prompts it is one typical request (<see cref="RoutingOptions.TypicalInputTokens"/> input tokens) with
/// each model's mean quality when the estimator has scores, else the neutral defaults; the plan's notes say so.
/// </remarks>
public sealed partial class PlanComputer(
    PlanStore store,
    RoutingState routing,
    IProfileSource profiles,
    CandidateEstimation estimation,
    IDbContextFactory<FlareDbContext> dbFactory,
    IOptions<RoutingOptions> options,
    TimeProvider time,
    ILogger<PlanComputer> log)
{
    /// <summary>Computes plan <paramref name="planId"/> if it is still computing; does nothing otherwise (idempotent).</summary>
    public async Task ComputeAsync(long planId, CancellationToken ct)
    {
        var plan = await store.GetAsync(planId, ct);
        if (plan is null || plan.Status != RoutingPlanStatus.Computing)
        {
            return;
        }

        try
        {
            var workload = await BuildWorkloadAsync(plan.Parameters.SampleSize ?? PlanParameters.DefaultSampleSize, plan.Parameters.Seed ?? 0, ct);
            double? observed = plan.Policy == RoutingPolicies.Port
                ? await CountRequestsAsync(TimeSpan.FromMinutes(plan.Parameters.BudgetPeriodMinutes ?? PortDefaults.PeriodMinutes), ct)
                : null;
            var result = PlanComputation.Compute(plan.Policy, plan.Parameters, workload, estimation.Defaults, observed);
            if (result.Succeeded)
            {
                await store.CompleteAsync(planId, result.Prices!, result.Prediction, ct);
                LogReady(planId, plan.Policy);
            }
            else
            {
                await store.FailAsync(planId, result.Failure!, ct);
                LogFailed(planId, plan.Policy, result.Failure!);
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            LogCrashed(ex, planId);
            await store.FailAsync(planId, $"The optimizer stopped with an error: {ex.Message}", CancellationToken.None);
        }
    }

    /// <summary>The workload sample over the enabled deployments.</summary>
    public async Task<PlanWorkload> BuildWorkloadAsync(int sampleSize, int seed, CancellationToken ct)
    {
        var deployments = routing.Snapshot.Deployments;
        var defaults = estimation.Defaults;
        var estimator = estimation.History;
        if (estimator is { Count: > 0 })
        {
            var prompts = await SamplePromptsAsync(sampleSize, seed, ct);
            if (prompts.Count > 0)
            {
                var sample = prompts.Select(p =>
                {
                    var estimate = estimator.Estimate(p);
                    return new SamplePrompt(estimate.InputTokens, estimate);
                }).ToList();
                return PlanWorkload.Build(deployments, sample, profiles.Current, defaults,
                    $"{sample.Count:N0} prompts drawn from the routing history (seed {seed})");
            }
        }

        var typical = options.Value.TypicalInputTokens;
        var priors = estimator?.Aggregate(Array.Empty<Neighbour>(), typical);
        var source = priors is { Models.Count: > 0 }
            ? $"one typical request of {typical} input tokens, each model at its mean quality (the routing history has no prompts to sample)"
            : $"one typical request of {typical} input tokens (there is no routing history)";
        return PlanWorkload.Build(deployments, [new SamplePrompt(typical, priors)], profiles.Current, defaults, source);
    }

    private async Task<List<string>> SamplePromptsAsync(int sampleSize, int seed, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.HistoryPrompts.AsNoTracking().OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(ct);
        if (ids.Count > sampleSize)
        {
            // A seeded partial Fisher–Yates shuffle: the same history and seed give the same sample.
            var random = new Random(seed);
            for (var i = 0; i < sampleSize; i++)
            {
                var j = random.Next(i, ids.Count);
                (ids[i], ids[j]) = (ids[j], ids[i]);
            }

            ids = ids.GetRange(0, sampleSize);
        }

        var byId = await db.HistoryPrompts.AsNoTracking().Where(p => ids.Contains(p.Id)).Select(p => new { p.Id, p.Prompt }).ToDictionaryAsync(p => p.Id, p => p.Prompt, ct);
        return ids.Where(byId.ContainsKey).Select(id => byId[id]).ToList();
    }

    private async Task<double?> CountRequestsAsync(TimeSpan period, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var since = time.GetUtcNow().UtcDateTime - period;
        var count = await db.RequestLog.AsNoTracking().CountAsync(r => r.TimestampUtc >= since, ct);
        return count > 0 ? count : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Routing plan {PlanId} ({Policy}) is ready")]
    private partial void LogReady(long planId, string policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing plan {PlanId} ({Policy}) could not be computed: {Reason}")]
    private partial void LogFailed(long planId, string policy, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Computing routing plan {PlanId} failed")]
    private partial void LogCrashed(Exception ex, long planId);
}
