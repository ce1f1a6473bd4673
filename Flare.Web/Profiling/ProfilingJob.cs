using System.ComponentModel;
using Flare.Data.Profiling;
using Hangfire;

namespace Flare.Web.Profiling;

/// <summary>
/// The Hangfire jobs of profiling: thin and idempotent, they take ids and leave the work (and the progress it
/// writes to the database) to <see cref="ProfileRunner"/>. A run that is not queued is not run again, so a
/// duplicated job does nothing. No automatic retries: a failed run is resumed by an operator, not repeated blindly.
/// </summary>
public sealed partial class ProfilingJob(ProfileRunner runner, ProfilingStore store, ILogger<ProfilingJob> log)
{
    /// <summary>Measures a queued run.</summary>
    [AutomaticRetry(Attempts = 0)]
    [DisplayName("Profile run {0}")]
    public Task RunAsync(int runId, CancellationToken ct) => runner.RunAsync(runId, ct);

    /// <summary>The recurring schedule of a deployment: queues a run with the schedule's settings and measures it.</summary>
    [AutomaticRetry(Attempts = 0)]
    [DisplayName("Scheduled profiling of deployment {0}")]
    public async Task ScheduledAsync(int deploymentId, CancellationToken ct)
    {
        var schedule = await store.GetScheduleAsync(deploymentId, ct);
        if (schedule is null)
        {
            return;
        }

        var run = await store.CreateRunAsync(deploymentId, schedule.Settings, ct);
        if (!run.IsOk)
        {
            LogSkipped(deploymentId, run.Message);
            return;
        }

        await runner.RunAsync(run.Value!.Id, ct);
    }

    /// <summary>Hangfire's id of a deployment's recurring profiling job.</summary>
    public static string RecurringId(int deploymentId) => $"profile-deployment-{deploymentId}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled profiling of deployment {DeploymentId} skipped: {Reason}")]
    private partial void LogSkipped(int deploymentId, string? reason);
}
