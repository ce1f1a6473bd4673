using Flare.Data;
using Flare.Data.Gateway;
using Flare.Routing.Routing;
using Flare.Web.Gateway;
using Microsoft.EntityFrameworkCore;

namespace Flare.Web.Traffic;

/// <summary>One logged <c>/v1</c> request with its routing decision explained (the Explain view, <c>GET /api/requests/{id}</c>).</summary>
/// <param name="PlanVersion">The routing plan it was routed by; null when it named a model.</param>
/// <param name="FeedbackScore">The application's score of the answer, once it sent one.</param>
/// <param name="Explanation">Every candidate's estimates, prices and score; null when no scoring policy decided.</param>
public sealed record RequestDetail(
    string RequestId,
    DateTime TimestampUtc,
    string Endpoint,
    string RequestedModel,
    string? Deployment,
    string? Policy,
    long? PlanVersion,
    bool Stream,
    int Status,
    string? ErrorType,
    int? InputTokens,
    int? OutputTokens,
    double? CostUsd,
    double? TtftMs,
    double E2eMs,
    double OverheadMs,
    int Attempts,
    double? FeedbackScore,
    RoutingExplanation? Explanation)
{
    internal static RequestDetail From(RequestLogEntity r) => new(
        r.RequestId, r.TimestampUtc, r.Endpoint, r.RequestedModel, r.DeploymentName, r.Policy, r.PlanVersion, r.Stream, r.Status,
        r.ErrorType, r.InputTokens, r.OutputTokens, r.CostUsd, r.TtftMs, r.E2eMs, r.OverheadMs, r.Attempts, r.FeedbackScore,
        RoutingExplanation.FromJson(r.Explanation));
}

/// <summary>
/// What live traffic routed by one plan looked like since it became live, to set beside the plan's prediction.
/// </summary>
/// <param name="Requests">Requests routed by the plan since <paramref name="SinceUtc"/> (at most the newest
/// <see cref="RequestInsights.ObservationWindow"/>).</param>
/// <param name="MeanLatencyMs">Mean end-to-end latency of the successful ones, ms.</param>
/// <param name="CostPer1kUsd">Mean cost of the successful ones × 1,000, USD.</param>
/// <param name="MeanFeedbackScore">Mean of the scores applications sent back (<c>POST /v1/feedback</c>); the observed quality.</param>
/// <param name="TrafficShare">Share of the successful ones per deployment.</param>
public sealed record PlanObservation(
    long PlanVersion,
    DateTime SinceUtc,
    int Requests,
    int Errors,
    double? MeanLatencyMs,
    double? P95LatencyMs,
    double? CostPer1kUsd,
    double? MeanFeedbackScore,
    int FeedbackCount,
    IReadOnlyDictionary<string, double> TrafficShare);

/// <summary>Reads the request log for the Explain view and for a plan's observed metrics.</summary>
public sealed class RequestInsights(IDbContextFactory<FlareDbContext> dbFactory, RequestLogWriter writer)
{
    /// <summary>The most requests an observation reads.</summary>
    public const int ObservationWindow = 20_000;

    /// <summary>The request with id <paramref name="requestId"/>; null when it is not (or no longer) in the log.</summary>
    public async Task<RequestDetail?> FindAsync(string requestId, CancellationToken ct = default)
    {
        if (writer.Recent().FirstOrDefault(r => r.RequestId == requestId) is { } recent)
        {
            return RequestDetail.From(recent);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.RequestLog.AsNoTracking().Where(r => r.RequestId == requestId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        return row is null ? null : RequestDetail.From(row);
    }

    /// <summary>Live traffic routed by plan <paramref name="planVersion"/> since <paramref name="sinceUtc"/>.</summary>
    public async Task<PlanObservation> ObserveAsync(long planVersion, DateTime sinceUtc, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.RequestLog.AsNoTracking()
            .Where(r => r.PlanVersion == planVersion && r.TimestampUtc >= sinceUtc)
            .OrderByDescending(r => r.Id)
            .Take(ObservationWindow)
            .Select(r => new { r.Status, r.ErrorType, r.E2eMs, r.CostUsd, r.DeploymentName, r.FeedbackScore })
            .ToListAsync(ct);
        var ok = rows.Where(r => r.Status < 400 && r.ErrorType is null).ToList();
        var latencies = ok.Select(r => r.E2eMs).Order().ToArray();
        var costs = ok.Where(r => r.CostUsd is not null).Select(r => r.CostUsd!.Value).ToList();
        var scores = rows.Where(r => r.FeedbackScore is not null).Select(r => r.FeedbackScore!.Value).ToList();
        var share = ok.Count == 0
            ? new Dictionary<string, double>()
            : ok.GroupBy(r => r.DeploymentName ?? "?").ToDictionary(g => g.Key, g => g.Count() / (double)ok.Count);
        return new PlanObservation(
            planVersion, sinceUtc, rows.Count, rows.Count - ok.Count,
            latencies.Length == 0 ? null : latencies.Average(),
            latencies.Length == 0 ? null : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(0.95 * latencies.Length) - 1)],
            costs.Count == 0 ? null : costs.Average() * 1000,
            scores.Count == 0 ? null : scores.Average(),
            scores.Count,
            share);
    }
}
